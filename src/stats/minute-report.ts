/**
 * One info line a minute with what the tracker did in it (announces and
 * scrapes per transport, then live peers and torrents), and nothing in a
 * minute when nothing happened: between a silent log and --verbose's line
 * per request.
 */
import type { Transport } from '../protocol/types.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/log.js';
import type { SwarmStore } from '../store/store.js';
import type { ActivitySource } from './snapshot.js';

export const REPORT_INTERVAL_MS = 60_000;

type Counts = Record<Transport, { announces: number; scrapes: number }>;

export class MinuteReport {
  private last: Counts | null = null;
  private readonly source: ActivitySource;
  private readonly store: SwarmStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;

  constructor(source: ActivitySource, store: SwarmStore, clock: Clock, logger: Logger) {
    this.source = source;
    this.store = store;
    this.clock = clock;
    this.logger = logger;
  }

  /** Takes the counts since the last call; logs them if any is not zero. */
  async tick(): Promise<void> {
    const counts = (await this.source.snapshot()).activity.periods.all_time.protocols;
    const last = this.last;
    this.last = counts;
    if (last === null) return;
    const announces: Partial<Record<Transport, number>> = {};
    const scrapes: Partial<Record<Transport, number>> = {};
    let any = false;
    for (const t of Object.keys(counts) as Transport[]) {
      const a = counts[t].announces - (last[t]?.announces ?? 0);
      const s = counts[t].scrapes - (last[t]?.scrapes ?? 0);
      if (a > 0) announces[t] = a;
      if (s > 0) scrapes[t] = s;
      any ||= a > 0 || s > 0;
    }
    if (!any) return;
    const live = await this.store.totals(this.clock.now());
    this.logger.info({ announces, scrapes, peers: live.peers, seeders: live.seeders, leechers: live.leechers, torrents: live.torrents }, 'the last minute');
  }

  start(intervalMs = REPORT_INTERVAL_MS): void {
    void this.tick().catch(() => undefined);
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'minute report failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
