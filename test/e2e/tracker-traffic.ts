/**
 * What a tracker run with `--verbose` was asked and answered, one short line
 * per request or reply, for the message of a real-client test that failed:
 * it tells "the client never announced" from "it announced and was handed
 * no one" from "it was handed the other peer and still got nothing".
 */
import { decodeRequest, decodeResponse } from '../../src/protocol/udp.js';

type LogLine = Record<string, unknown>;

function udpRequest(hex: string): string {
  try {
    const req = decodeRequest(Buffer.from(hex, 'hex'));
    if (req.action !== 'announce') return req.action;
    const a = req.announce;
    return `announce event=${a.event} port=${a.port} left=${a.left}`;
  } catch (err) {
    return `undecodable (${(err as Error).message})`;
  }
}

function udpReply(hex: string): string {
  try {
    const r = decodeResponse(Buffer.from(hex, 'hex'));
    if (r.action === 'announce') return `announce reply: ${r.seeders} seeders, ${r.leechers} leechers, ${r.peers.length / 6} peers handed`;
    if (r.action === 'error') return `error reply: ${r.message}`;
    return `${r.action} reply`;
  } catch (err) {
    return `undecodable reply (${(err as Error).message})`;
  }
}

/** Peers in a compact `peers`/`peers6` string as toLoggable writes it ("hex:…"). */
function compactCount(value: unknown, size: number): number {
  return typeof value === 'string' && value.startsWith('hex:') ? (value.length - 4) / 2 / size : 0;
}

function httpRequest(url: string): string {
  const q = new URL(url, 'http://tracker').searchParams;
  return `${url.split('?')[0]} event=${q.get('event') ?? 'none'} port=${q.get('port')} left=${q.get('left')}`;
}

function httpReply(response: unknown): string {
  if (typeof response !== 'object' || response === null) return 'reply';
  const r = response as Record<string, unknown>;
  if (r['failure reason'] !== undefined) return `failure: ${String(r['failure reason'])}`;
  if (r['files'] !== undefined) return 'scrape reply';
  return `reply: ${r['complete']} seeders, ${r['incomplete']} leechers, ${compactCount(r['peers'], 6) + compactCount(r['peers6'], 18)} peers handed`;
}

/**
 * The traffic in the logs of named trackers, in seconds after `since` (ms):
 * each distinct line once, at its first time, with how many times and until
 * when it came again (a client re-announcing every 3 s says the same thing).
 */
export function describeTraffic(trackers: ReadonlyArray<readonly [name: string, lines: readonly LogLine[]]>, since: number): string[] {
  const seen = new Map<string, { first: number; last: number; count: number }>();
  for (const [name, lines] of trackers) {
    for (const l of lines) {
      const time = typeof l['time'] === 'number' ? l['time'] : since;
      const from = `${String(l['remote'])}${l['port'] === undefined ? '' : `:${String(l['port'])}`}`;
      let what: string | null = null;
      if (l['msg'] === 'udp request') what = `udp ${from} → ${udpRequest(String(l['request']))}`;
      else if (l['msg'] === 'udp reply') what = `udp ${from} ← ${udpReply(String(l['response']))}`;
      else if (l['msg'] === 'http request') what = `http ${from} → ${httpRequest(String(l['url']))}`;
      else if (l['msg'] === 'http reply') what = `http ${from} ← ${httpReply(l['response'])}`;
      if (what === null || time < since) continue;
      const key = `${name} ${what}`;
      const e = seen.get(key);
      if (e === undefined) seen.set(key, { first: time, last: time, count: 1 });
      else {
        e.last = time;
        e.count++;
      }
    }
  }
  const s = (ms: number): string => `${((ms - since) / 1000).toFixed(1)}s`;
  return [...seen]
    .sort(([, x], [, y]) => x.first - y.first)
    .map(([text, e]) => `${s(e.first)} ${text}${e.count > 1 ? ` (${e.count} times, the last at ${s(e.last)})` : ''}`);
}
