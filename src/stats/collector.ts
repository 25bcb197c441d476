/**
 * Tracker activity counters for the stats page. Recording is plain
 * increments on preallocated numbers and typed arrays: nothing allocates on
 * the request path. Days and hours are UTC.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../runtime/clock.js';
import type { ErrorCode } from '../protocol/errors.js';
import { TRANSPORTS, type Transport } from '../protocol/types.js';
import type { ConnectionFailure, TrackerEvents } from '../service/events.js';
import { hash32, HyperLogLog } from './hyperloglog.js';

function byTransport<V>(value: (i: number) => V): Record<Transport, V> {
  return Object.fromEntries(TRANSPORTS.map((t, i) => [t, value(i)])) as Record<Transport, V>;
}

/** Counters per transport, in TRANSPORTS order; one more transport is one more entry there. */
const T = TRANSPORTS.length;
const TRANSPORT_INDEX = Object.fromEntries(TRANSPORTS.map((t, i) => [t, i])) as Record<Transport, number>;
/** A minute's slot: [transport × (announce, scrape)]. */
const SLOT = T * 2;

/** Upper bounds of the response-time buckets, seconds: a UDP reply takes microseconds, an HTTPS one with gzip a few milliseconds. */
export const RESPONSE_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const DAY = 86_400;
const DAILY_BARS = 30;
const MINUTES = 60;
const ANNOUNCE = 0;
const SCRAPE = 1;
type Kind = typeof ANNOUNCE | typeof SCRAPE;

/** One period's counters (a day, or all time). */
class Period {
  day: number;
  /** Requests by kind: [announces, scrapes]. */
  readonly requests = new Float64Array(2);
  /** By transport (TRANSPORTS order) and kind: [transport * 2 + kind]. */
  readonly byProtocol = new Float64Array(T * 2);
  /** By family (IPv4, IPv6) and kind: [family * 2 + kind]. */
  readonly byFamily = new Float64Array(4);
  bytesSent = 0;
  gzipSaved = 0;
  gzipResponses = 0;
  responses = 0;
  /** Announces refused because the tracker was at --max-torrents. */
  refused = 0;
  readonly uniqueIps = new HyperLogLog();
  /** Announces per UTC hour (day periods only). */
  readonly hourly = new Float64Array(24);

  constructor(day: number) {
    this.day = day;
  }

  get announces(): number {
    return this.requests[ANNOUNCE]!;
  }

  /** One request of `kind` over protocol index `p` from family index `f`. */
  count(kind: Kind, p: number, f: number): void {
    this.requests[kind]!++;
    this.byProtocol[p * 2 + kind]!++;
    this.byFamily[f * 2 + kind]!++;
  }
}

export interface ProtocolFigures {
  announces: number;
  scrapes: number;
}

export interface PeriodFigures {
  announces: number;
  scrapes: number;
  /** Exact up to 1,024 addresses, then a HyperLogLog estimate (≈1.6 % error). */
  unique_ips: number;
  /** Bytes of reply bodies and UDP packets sent. */
  bytes_sent: number;
  gzip_bytes_saved: number;
  gzip_responses: number;
  responses: number;
  /** Announces refused at --max-torrents. */
  refused_announces: number;
  protocols: Record<Transport, ProtocolFigures>;
  families: { ipv4: ProtocolFigures; ipv6: ProtocolFigures };
}

export interface UniqueRegisters {
  today: string;
  yesterday: string;
  all_time: string;
}

export interface ActivityFigures {
  periods: { today: PeriodFigures; yesterday: PeriodFigures; all_time: PeriodFigures };
  hourly: { today_date: string; today: number[]; yesterday: number[] };
  daily: { date: string; announces: number }[];
  last_hour: {
    /** Start of the first minute (ISO 8601); one entry per minute, oldest first. */
    from: string;
    announces_per_second: Record<Transport, number[]>;
    scrapes_per_second: Record<Transport, number[]>;
  };
}

function addResponse(p: Period, bytes: number, gzipSaved: number): void {
  p.bytesSent += bytes;
  p.responses++;
  if (gzipSaved > 0) {
    p.gzipSaved += gzipSaved;
    p.gzipResponses++;
  }
}

export function isoDate(day: number): string {
  return new Date(day * DAY * 1000).toISOString().slice(0, 10);
}

function figures(p: Period): PeriodFigures {
  const pair = (counts: Float64Array, i: number): ProtocolFigures => ({ announces: counts[i * 2 + ANNOUNCE]!, scrapes: counts[i * 2 + SCRAPE]! });
  return {
    announces: p.requests[ANNOUNCE]!,
    scrapes: p.requests[SCRAPE]!,
    unique_ips: p.uniqueIps.estimate(),
    bytes_sent: p.bytesSent,
    gzip_bytes_saved: p.gzipSaved,
    gzip_responses: p.gzipResponses,
    responses: p.responses,
    refused_announces: p.refused,
    protocols: byTransport((i) => pair(p.byProtocol, i)),
    families: { ipv4: pair(p.byFamily, 0), ipv6: pair(p.byFamily, 1) },
  };
}

export class StatsCollector implements TrackerEvents {
  private readonly clock: Clock;
  /** Keyed hashing: an outsider cannot aim addresses at one register. Workers of one tracker share it, so their counts merge. */
  private readonly seed: number;
  private today: Period;
  private yesterday: Period;
  private readonly allTime = new Period(0);
  /** Announces of earlier days, by day number, at most DAILY_BARS - 1 of them. */
  private readonly history = new Map<number, number>();
  /** Per minute of the last hour: [protocol × (announce, scrape)] counts, and which minute each slot holds. */
  private readonly minuteCounts = new Float64Array(MINUTES * SLOT);
  private readonly minuteOf = new Float64Array(MINUTES).fill(-1);

  constructor(clock: Clock, seed = randomInt(0, 2 ** 31)) {
    this.clock = clock;
    this.seed = seed;
    const day = Math.floor(clock.now() / DAY);
    this.today = new Period(day);
    this.yesterday = new Period(day - 1);
  }

  private periodsFor(now: number): Period {
    const day = Math.floor(now / DAY);
    if (day !== this.today.day) this.rollTo(day);
    return this.today;
  }

  private rollTo(day: number): void {
    if (day < this.today.day) return; // clock went back: keep counting into today
    this.history.set(this.today.day, this.today.announces);
    for (const d of this.history.keys()) if (d <= day - DAILY_BARS) this.history.delete(d);
    this.yesterday = day === this.today.day + 1 ? this.today : new Period(day - 1);
    this.today = new Period(day);
  }

  private minuteSlot(now: number): number {
    const minute = Math.floor(now / 60);
    const slot = minute % MINUTES;
    if (this.minuteOf[slot] !== minute) {
      this.minuteOf[slot] = minute;
      this.minuteCounts.fill(0, slot * SLOT, slot * SLOT + SLOT);
    }
    return slot * SLOT;
  }

  private record(kind: Kind, transport: Transport, ipBytes: string): void {
    const now = this.clock.now();
    const today = this.periodsFor(now);
    const all = this.allTime;
    const p = TRANSPORT_INDEX[transport];
    const f = ipBytes.length === 4 ? 0 : 1;
    const h = hash32(ipBytes, this.seed);
    today.uniqueIps.addHash(h);
    all.uniqueIps.addHash(h);
    today.count(kind, p, f);
    all.count(kind, p, f);
    if (kind === ANNOUNCE) today.hourly[Math.floor((now % DAY) / 3600)]!++;
    this.answered[(p * 2 + f) * 3 + kind]!++;
    this.minuteCounts[this.minuteSlot(now) + p * 2 + kind]!++;
  }

  announced(transport: Transport, ipBytes: string): void {
    this.record(ANNOUNCE, transport, ipBytes);
  }

  scraped(transport: Transport, ipBytes: string): void {
    this.record(SCRAPE, transport, ipBytes);
  }

  private readonly connectionFailures: Record<ConnectionFailure, number> = { tls_handshake: 0, accept: 0 };
  /** Error replies since start, by transport and catalogue code. */
  private readonly errorReplies = new Map<string, { transport: Transport; code: ErrorCode; count: number }>();
  /** Answered requests since start: [transport][family][kind: announce, scrape, connect]. */
  private readonly answered = new Float64Array(T * 2 * 3);
  /** Reply durations since start, per transport: counts per bucket of RESPONSE_BUCKETS (+ one past the last), their sum. */
  private readonly responseCounts = new Float64Array(T * (RESPONSE_BUCKETS.length + 1));
  private readonly responseSums = new Float64Array(T);

  /** Reply durations per transport, cumulative per bucket as Prometheus has them (the metrics' histogram). */
  responseTimes(): { transport: Transport; cumulative: number[]; sum: number; count: number }[] {
    const width = RESPONSE_BUCKETS.length + 1;
    return TRANSPORTS.map((transport, p) => {
      const cumulative: number[] = [];
      let n = 0;
      for (let b = 0; b < width; b++) cumulative.push((n += this.responseCounts[p * width + b]!));
      return { transport, cumulative, sum: this.responseSums[p]!, count: n };
    });
  }

  connected(transport: Transport, ipBytes: string): void {
    this.answered[(TRANSPORT_INDEX[transport] * 2 + (ipBytes.length === 4 ? 0 : 1)) * 3 + 2]!++;
  }

  /** Answered requests since start by transport, family and kind (the metrics' request counter). */
  answeredFigures(): { transport: Transport; family: 'ipv4' | 'ipv6'; kind: 'announce' | 'scrape' | 'connect'; count: number }[] {
    const out: ReturnType<StatsCollector['answeredFigures']> = [];
    TRANSPORTS.forEach((transport, p) => {
      for (const [f, family] of (['ipv4', 'ipv6'] as const).entries()) {
        for (const [k, kind] of (['announce', 'scrape', 'connect'] as const).entries()) {
          out.push({ transport, family, kind, count: this.answered[(p * 2 + f) * 3 + k]! });
        }
      }
    });
    return out;
  }

  /** Error replies since start by transport and code. */
  errorRepliesByTransport(): { transport: Transport; code: ErrorCode; count: number }[] {
    return [...this.errorReplies.values()].map((e) => ({ ...e }));
  }

  connectionFailed(reason: ConnectionFailure): void {
    this.connectionFailures[reason]++;
  }

  connectionFigures(): { tls_handshake_failures: number; accept_errors: number } {
    return { tls_handshake_failures: this.connectionFailures.tls_handshake, accept_errors: this.connectionFailures.accept };
  }

  refused(transport: Transport, code: ErrorCode): void {
    const key = `${transport} ${code}`;
    const entry = this.errorReplies.get(key);
    if (entry === undefined) this.errorReplies.set(key, { transport, code, count: 1 });
    else entry.count++;
    // An announce refused because the tracker holds --max-torrents torrents.
    if (code === 'torrent_limit') {
      this.periodsFor(this.clock.now()).refused++;
      this.allTime.refused++;
    }
  }

  /** Error replies since start, by code. */
  errorFigures(): Partial<Record<ErrorCode, number>> {
    const out: Partial<Record<ErrorCode, number>> = {};
    for (const e of this.errorReplies.values()) out[e.code] = (out[e.code] ?? 0) + e.count;
    return out;
  }

  replied(transport: Transport, bytes: number, gzipSaved: number, seconds: number): void {
    const p = TRANSPORT_INDEX[transport];
    let b = 0;
    while (b < RESPONSE_BUCKETS.length && seconds > RESPONSE_BUCKETS[b]!) b++;
    this.responseCounts[p * (RESPONSE_BUCKETS.length + 1) + b]!++;
    this.responseSums[p]! += seconds;
    addResponse(this.periodsFor(this.clock.now()), bytes, gzipSaved);
    addResponse(this.allTime, bytes, gzipSaved);
  }

  /** The distinct-address counters of today, yesterday and all time, to merge across workers. */
  uniqueRegisters(): UniqueRegisters {
    this.periodsFor(this.clock.now());
    return { today: this.today.uniqueIps.exportRegisters(), yesterday: this.yesterday.uniqueIps.exportRegisters(), all_time: this.allTime.uniqueIps.exportRegisters() };
  }

  /** Everything the stats page shows about activity, as of now. */
  activity(): ActivityFigures {
    const now = this.clock.now();
    this.periodsFor(now);
    const day = this.today.day;
    const daily: { date: string; announces: number }[] = [];
    for (let d = day - DAILY_BARS + 1; d <= day; d++) {
      daily.push({ date: isoDate(d), announces: d === day ? this.today.announces : (this.history.get(d) ?? 0) });
    }
    const minute = Math.floor(now / 60);
    const perSecond = (kind: Kind): Record<Transport, number[]> => {
      const out = byTransport((): number[] => []);
      for (let m = minute - MINUTES + 1; m <= minute; m++) {
        const slot = m % MINUTES;
        // The current minute is partial: divide by the seconds it has had.
        const seconds = m === minute ? (now % 60) + 1 : 60;
        TRANSPORTS.forEach((protocol, p) => {
          const count = this.minuteOf[slot] === m ? this.minuteCounts[slot * SLOT + p * 2 + kind]! : 0;
          out[protocol].push(Math.round((count / seconds) * 100) / 100);
        });
      }
      return out;
    };
    return {
      periods: { today: figures(this.today), yesterday: figures(this.yesterday), all_time: figures(this.allTime) },
      hourly: { today_date: isoDate(day), today: [...this.today.hourly], yesterday: [...this.yesterday.hourly] },
      daily,
      last_hour: {
        from: new Date((minute - MINUTES + 1) * 60_000).toISOString(),
        announces_per_second: perSecond(ANNOUNCE),
        scrapes_per_second: perSecond(SCRAPE),
      },
    };
  }
}
