/** Output of wildkat-query: table (people), JSON and CSV (scripts). */
import { REFUSED_HASH_HINT } from './errors.js';
import type { QueriedPeer } from './types.js';
import type { QueryResult } from './run.js';

export type OutputFormat = 'table' | 'json' | 'csv';

export interface Painter {
  ok(s: string): string;
  warn(s: string): string;
  fail(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function painter(enabled: boolean): Painter {
  const wrap = (code: string) => (s: string) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { ok: wrap('32'), warn: wrap('33'), fail: wrap('31'), dim: wrap('2'), bold: wrap('1') };
}

/** Colour only on a terminal, never with --nocolor or NO_COLOR (https://no-color.org). */
export function colourWanted(isTty: boolean, noColorFlag: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTty && !noColorFlag && (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '');
}

export interface Grade {
  letter: string;
  label: string;
}

export function grade(ms: number): Grade {
  if (ms < 100) return { letter: 'A', label: 'excellent' };
  if (ms < 250) return { letter: 'B', label: 'good' };
  if (ms < 500) return { letter: 'C', label: 'fair' };
  if (ms < 1000) return { letter: 'D', label: 'slow' };
  if (ms < 3000) return { letter: 'E', label: 'very slow' };
  return { letter: 'F', label: 'poor' };
}

export interface NumwantCheck {
  honoured: boolean;
  text: string;
}

export function numwantCheck(requested: number, returned: number, swarm: number | null): NumwantCheck {
  if (returned > requested) return { honoured: false, text: `ignored: ${returned} returned for ${requested} requested` };
  if (swarm !== null && returned < requested && returned < swarm - 1) {
    return { honoured: true, text: `honoured (the tracker capped the list at ${returned})` };
  }
  return { honoured: true, text: 'honoured' };
}

/** IPv6 compliance: what an IPv6 client was given. */
export function ipv6Compliance(r: QueryResult): string | null {
  const a = r.announce;
  if (a === null || a.family !== 6 || !a.ipv4OnlyOverIpv6) return null;
  return 'reached over IPv6 but the tracker returned IPv4-only peers (no peers6 / 6-byte entries): IPv6 clients cannot use them';
}

function peerCounts(peers: readonly QueriedPeer[]): { ipv4: number; ipv6: number; native: number; mapped: number } {
  let ipv4 = 0;
  let native = 0;
  let mapped = 0;
  for (const p of peers) {
    if (p.type === 'ipv4') ipv4++;
    else if (p.type === 'ipv6') native++;
    else mapped++;
  }
  return { ipv4, ipv6: native + mapped, native, mapped };
}

function peerJson(p: QueriedPeer, lookup: boolean): Record<string, unknown> {
  return { ip: p.ip, port: p.port, type: p.type, peer_id: p.peerId, ...(lookup ? { hostname: p.hostname ?? null } : {}) };
}

/** The original tool's JSON keys, then a few more. */
export function announceJson(r: QueryResult, lookup = false): Record<string, unknown> {
  const a = r.announce;
  const peers = a?.peers ?? [];
  const counts = peerCounts(peers);
  return {
    tracker: r.tracker,
    interval: a?.interval ?? null,
    min_interval: a?.minInterval ?? null,
    seeds: a?.seeders ?? null,
    leechers: a?.leechers ?? null,
    downloaded: a?.downloaded ?? null,
    ipv4_peers: counts.ipv4,
    ipv4_bytes: a?.ipv4Bytes ?? 0,
    ipv6_peers: counts.ipv6,
    ipv6_bytes: a?.ipv6Bytes ?? 0,
    peer_list: peers.map((p) => peerJson(p, lookup)),
    num_want_requested: r.numwantRequested,
    total_peers_returned: peers.length,
    response_time_ms: a?.responseTimeMs ?? null,
    warning_message: a?.warning ?? null,
    failure_reason: a?.failure ?? null,
    external_ip: a?.externalIp ?? null,
    tracker_id: a?.trackerId ?? null,
    // Beyond the original:
    ok: r.ok,
    error: r.error,
    reached_over: a === null ? null : `ipv${a.family}`,
    ipv6_native_peers: counts.native,
    ipv6_mapped_peers: counts.mapped,
    ipv6_compliance_warning: ipv6Compliance(r),
    numwant_honoured: a === null ? null : numwantCheck(r.numwantRequested, peers.length, sum(a.seeders, a.leechers)).honoured,
    redirects: a?.redirects ?? [],
    attempts: r.attempts,
  };
}

function sum(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}

export function scrapeJson(r: QueryResult): Record<string, unknown> {
  const s = r.scrape;
  return {
    tracker: r.tracker,
    mode: r.mode,
    files: (s?.files ?? []).map((f) => ({ info_hash: f.infoHash, seeds: f.seeders, leechers: f.leechers, downloaded: f.downloaded })),
    min_request_interval: s?.minRequestInterval ?? null,
    response_time_ms: s?.responseTimeMs ?? null,
    failure_reason: s?.failure ?? null,
    ok: r.ok,
    error: r.error,
    reached_over: s === null ? null : `ipv${s.family}`,
    redirects: s?.redirects ?? [],
    attempts: r.attempts,
  };
}

export function resultJson(r: QueryResult, lookup = false): Record<string, unknown> {
  return r.mode === 'announce' ? announceJson(r, lookup) : scrapeJson(r);
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvCell).join(',');
}

export const ANNOUNCE_CSV_COLUMNS = [
  'tracker', 'interval', 'min_interval', 'seeds', 'leechers', 'downloaded', 'ipv4_peers', 'ipv4_bytes', 'ipv6_peers', 'ipv6_bytes',
  'num_want_requested', 'total_peers_returned', 'response_time_ms', 'warning_message', 'failure_reason', 'external_ip', 'tracker_id', 'error',
] as const;

export const SCRAPE_CSV_COLUMNS = ['tracker', 'info_hash', 'seeds', 'leechers', 'downloaded', 'response_time_ms', 'failure_reason', 'error'] as const;

function announceRow(r: QueryResult): string {
  const j = announceJson(r);
  return csvLine(ANNOUNCE_CSV_COLUMNS.map((c) => j[c]));
}

function scrapeRows(r: QueryResult): string[] {
  const s = r.scrape;
  if (s === null || s.files.length === 0) return [csvLine([r.tracker, '', '', '', '', s?.responseTimeMs ?? '', s?.failure ?? '', r.error])];
  return s.files.map((f) => csvLine([r.tracker, f.infoHash, f.seeders, f.leechers, f.downloaded, s.responseTimeMs, s.failure, r.error]));
}

/** One result: a header and a row, then (announce) a blank line and the peers. */
export function resultCsv(r: QueryResult, lookup: boolean): string {
  if (r.mode !== 'announce') return [csvLine(SCRAPE_CSV_COLUMNS), ...scrapeRows(r)].join('\n') + '\n';
  const lines = [csvLine(ANNOUNCE_CSV_COLUMNS), announceRow(r), '', csvLine(lookup ? ['ip', 'port', 'type', 'peer_id', 'hostname'] : ['ip', 'port', 'type', 'peer_id'])];
  for (const p of r.announce?.peers ?? []) lines.push(csvLine(lookup ? [p.ip, p.port, p.type, p.peerId, p.hostname] : [p.ip, p.port, p.type, p.peerId]));
  return lines.join('\n') + '\n';
}

/** Several results: one header, one row per tracker (scrapes: per file). */
export function batchCsv(results: readonly QueryResult[]): string {
  if (results.length === 0) return '';
  if (results[0]!.mode !== 'announce') return [csvLine(SCRAPE_CSV_COLUMNS), ...results.flatMap(scrapeRows)].join('\n') + '\n';
  return [csvLine(ANNOUNCE_CSV_COLUMNS), ...results.map(announceRow)].join('\n') + '\n';
}

function rows(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

function bytes(n: number): string {
  return `${n} byte${n === 1 ? '' : 's'}`;
}

export interface TableOptions {
  showPeers: boolean;
  lookup: boolean;
  paint: Painter;
}

export function resultTable(r: QueryResult, o: TableOptions): string {
  const { paint } = o;
  const out: string[] = [paint.bold(r.tracker)];
  const reached = r.announce ?? r.scrape;
  const pairs: [string, string][] = [];
  if (reached !== null) {
    const g = grade(reached.responseTimeMs);
    const colour = g.letter <= 'B' ? paint.ok : g.letter <= 'D' ? paint.warn : paint.fail;
    pairs.push(['Response', `${reached.responseTimeMs} ms  ${colour(`[${g.letter} · ${g.label}]`)}  over IPv${reached.family} (${reached.address})`]);
    for (const hop of reached.redirects) pairs.push(['Redirect', hop]);
  }
  if (r.attempts > 1) pairs.push(['Attempts', String(r.attempts)]);
  if (r.error !== null) pairs.push([r.errorKind === 'failure' ? 'Failure' : 'Error', paint.fail(r.error)]);
  const a = r.announce;
  if (a !== null && a.refusedHash) pairs.push(['Hint', `answered, but ${REFUSED_HASH_HINT}`]);
  if (a !== null) {
    if (a.warning !== null) pairs.push(['Warning', paint.warn(a.warning)]);
    if (a.failure === null) {
      const counts = peerCounts(a.peers);
      // BEP 15 replies carry no tracker id, external ip or downloaded count.
      const udp = r.tracker.startsWith('udp:');
      const absent = udp ? 'n/a over UDP' : '—';
      pairs.push(
        ['Interval', a.interval === null ? '—' : `${a.interval} s${a.minInterval === null ? '' : ` (min ${a.minInterval} s)`}`],
        ['Tracker ID', a.trackerId ?? absent],
        ['External IP', a.externalIp ?? (udp ? absent : '— (not sent: BEP 24)')],
        ['Seeders', a.seeders === null ? '—' : String(a.seeders)],
        ['Leechers', a.leechers === null ? '—' : String(a.leechers)],
        ['Downloaded', a.downloaded === null ? absent : String(a.downloaded)],
        ['IPv4 peers', `${counts.ipv4} (${bytes(a.ipv4Bytes)})`],
        ['IPv6 peers', `${counts.ipv6} (${bytes(a.ipv6Bytes)}; ${counts.native} native, ${counts.mapped} ::ffff:-mapped)`],
      );
      const nw = numwantCheck(r.numwantRequested, a.peers.length, sum(a.seeders, a.leechers));
      pairs.push(['numwant', `${r.numwantRequested} requested, ${a.peers.length} returned: ${nw.honoured ? paint.ok(nw.text) : paint.fail(nw.text)}`]);
      const v6 = ipv6Compliance(r);
      if (v6 !== null) pairs.push(['IPv6', paint.warn(`warning: ${v6}`)]);
    }
  }
  const s = r.scrape;
  if (s !== null && s.failure === null) {
    if (s.minRequestInterval !== null) pairs.push(['Min request interval', `${s.minRequestInterval} s`]);
    pairs.push(['Torrents', String(s.files.length)]);
  }
  if (r.stop !== null) pairs.push(['Stop', r.stop === 'sent' ? 'event=stopped sent afterwards: no peer left in the swarm (--no-stop to stay)' : paint.warn(`event=stopped ${r.stop}`)]);
  out.push(rows(pairs));
  if (s !== null && s.files.length > 0) {
    out.push('', `  ${'info_hash'.padEnd(40)}  ${'seeds'.padStart(8)}  ${'leechers'.padStart(8)}  ${'downloaded'.padStart(10)}`);
    for (const f of s.files) {
      out.push(`  ${f.infoHash}  ${String(f.seeders).padStart(8)}  ${String(f.leechers).padStart(8)}  ${String(f.downloaded).padStart(10)}`);
    }
  }
  if (o.showPeers && a !== null && a.peers.length > 0) {
    const ipWidth = Math.max(2, ...a.peers.map((p) => p.ip.length));
    out.push('', `  ${'IP'.padEnd(ipWidth)}  ${'Port'.padStart(5)}  ${'Type'.padEnd(11)}  ${'Peer ID'.padEnd(40)}${o.lookup ? '  Hostname' : ''}`);
    for (const p of a.peers) {
      out.push(`  ${p.ip.padEnd(ipWidth)}  ${String(p.port).padStart(5)}  ${p.type.padEnd(11)}  ${(p.peerId ?? '—').padEnd(40)}${o.lookup ? `  ${p.hostname ?? '—'}` : ''}`.trimEnd());
    }
  }
  return out.join('\n') + '\n';
}

export interface BatchSummary {
  total: number;
  succeeded: number;
  failed: number;
  average_ms: number | null;
  fastest: { tracker: string; ms: number } | null;
  slowest: { tracker: string; ms: number } | null;
}

function timeOf(r: QueryResult): number {
  return (r.announce ?? r.scrape)?.responseTimeMs ?? Infinity;
}

export function batchSummary(results: readonly QueryResult[]): BatchSummary {
  const ok = results.filter((r) => r.ok).sort((x, y) => timeOf(x) - timeOf(y));
  const times = ok.map(timeOf);
  return {
    total: results.length,
    succeeded: ok.length,
    failed: results.length - ok.length,
    average_ms: times.length === 0 ? null : Math.round(times.reduce((s, t) => s + t, 0) / times.length),
    fastest: ok.length === 0 ? null : { tracker: ok[0]!.tracker, ms: timeOf(ok[0]!) },
    slowest: ok.length === 0 ? null : { tracker: ok.at(-1)!.tracker, ms: timeOf(ok.at(-1)!) },
  };
}

export function batchSummaryTable(results: readonly QueryResult[], paint: Painter): string {
  const summary = batchSummary(results);
  const out = [paint.bold(`Summary: ${summary.succeeded} of ${summary.total} answered`)];
  const ok = results.filter((r) => r.ok).sort((x, y) => timeOf(x) - timeOf(y));
  if (ok.length > 0) {
    out.push('  Successes, fastest first:');
    for (const r of ok) out.push(`    ${String(timeOf(r)).padStart(6)} ms  ${r.tracker}`);
    out.push(`  Average ${summary.average_ms} ms · fastest ${summary.fastest!.ms} ms · slowest ${summary.slowest!.ms} ms`);
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    out.push('  Failures:');
    for (const r of failed) out.push(`    ${paint.fail('✗')} ${r.tracker}: ${r.error ?? 'unknown error'}`);
  }
  return out.join('\n') + '\n';
}
