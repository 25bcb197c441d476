/**
 * Log lines for a person at a terminal: `12:04:31 INFO  listening protocol=udp
 * address=0.0.0.0 port=6969`. The same lines as pino's JSON (which journald
 * and log shippers get when stdout is not a terminal), reformatted.
 */
import { writeSync } from 'node:fs';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, shown differently or not at all. */
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && 'message' in v && 'stack' in v) return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v) ?? String(v);
}

/** One JSON log line as a readable line (without the newline); a line that is not JSON is kept as it is. */
export function formatLogLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof entry['time'] === 'number' ? new Date(entry['time']).toISOString().slice(11, 19) : '--:--:--';
  const level = (LEVELS[entry['level'] as number] ?? String(entry['level'])).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${value(v)}`);
  return [time, level, String(entry['msg'] ?? ''), ...fields].join(' ').trimEnd();
}

/** A pino destination writing readable lines to a file descriptor, synchronously (as the JSON one does). */
export function prettyDestination(fd: number): { write(chunk: string): boolean } {
  return {
    write(chunk: string): boolean {
      let out = '';
      for (const line of chunk.split('\n')) if (line !== '') out += formatLogLine(line) + '\n';
      writeSync(fd, out);
      return true;
    },
  };
}
