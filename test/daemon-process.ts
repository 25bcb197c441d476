/** bin/wildkat-tracker as a child process: its JSON log lines, bounded waits, stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, httpGet } from './helpers.js';

export const BIN = join(import.meta.dirname, '..', 'bin', 'wildkat-tracker');

export interface DaemonProcess {
  child: ChildProcess;
  /** Every log line so far, parsed (stdout), and stderr as text. */
  lines(): Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the first line (from the start) whose msg is `msg` and that `match`es; rejects after `ms`. */
  waitForLine(msg: string, ms?: number, match?: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Sends `signal` and resolves with the exit code (SIGKILL after `ms`). */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<number | null>;
}

export function spawnTracker(args: readonly string[], env: NodeJS.ProcessEnv = {}): DaemonProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const parsed: Record<string, unknown>[] = [];
  let partial = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    partial += c.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      try {
        parsed.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        parsed.push({ msg: p });
      }
    }
  });
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines: () => parsed,
    stderr: () => err,
    async waitForLine(msg, ms = 15_000, match = () => true) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = parsed.find((l) => l['msg'] === msg && match(l));
        if (found !== undefined) return found;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no "${msg}" line within ${ms} ms (exit ${child.exitCode}); stderr: ${err}; log: ${JSON.stringify(parsed.slice(-10))}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM', ms = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      child.kill(signal);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface Instance {
  daemon: DaemonProcess;
  port: number;
  webPort: number;
}

/** A tracker process on `store` (a redis:// URL), HTTP and UDP on one port, its stats page on another. */
export async function startInstance(store: string, extra: readonly string[] = [], ready = 'swarms kept in redis, shared with every tracker using it'): Promise<Instance> {
  const taken = new Set<number>();
  const port = await freePort('127.0.0.1', taken);
  const webPort = await freePort('127.0.0.1', taken);
  const daemon = spawnTracker(['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', String(webPort), '--store', store, ...extra]);
  await daemon.waitForLine(ready);
  return { daemon, port, webPort };
}

/** `live` of the stats page's /stats.json. */
export async function liveTotals(webPort: number): Promise<unknown> {
  const reply = await httpGet(webPort, '/stats.json');
  return (JSON.parse(reply.body.toString()) as { live: unknown }).live;
}
