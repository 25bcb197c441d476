/**
 * The tracker an integration suite (http, udp) speaks to. By default the
 * real tracker in this process with a manual clock; with
 * WILDKAT_TARGET=workers (`npm run test:workers`) bin/wildkat-tracker with
 * `--workers 2` on a redis-server of its own, so that the same requests and
 * assertions show the workers answering as one tracker. A test that moves
 * the tracker's clock or sweeps by hand cannot reach into other processes:
 * it is skipped there (`needsClock`); the store suite runs those rules on
 * Redis.
 */
import type { TrackerOptions } from '../src/runtime/config.js';
import { flagOf } from '../src/runtime/config.js';
import type { ManualClock } from '../src/runtime/clock.js';
import { spawnTracker } from './daemon-process.js';
import { freePort, startTestTracker } from './helpers.js';
import { redisSkip, startRedis } from './redis-server.js';

export const WORKERS_TARGET = process.env['WILDKAT_TARGET'] === 'workers';
const WORKERS = 2;

/** For a suite's `skip`: the workers target needs redis-server. */
export const targetSkip = WORKERS_TARGET ? redisSkip : false;
/** For a test's `skip`: it moves the tracker's clock, which lives in another process under the workers target. */
export const needsClock = WORKERS_TARGET ? 'moves the tracker clock: runs in-process only' : false;

export interface Target {
  httpPort: number;
  udpPort: number;
  port(protocol: 'http' | 'udp', family: 4 | 6): number;
  /** Log lines so far (pino objects), from every process of the tracker. */
  logLines(): readonly Record<string, unknown>[];
  /** How many processes keep their own per-process limits (log rate limits). */
  processes: number;
  clock(): ManualClock;
  sweepAll(): Promise<number>;
  close(): Promise<void>;
}

export async function startTarget(options: Partial<TrackerOptions> = {}): Promise<Target> {
  if (!WORKERS_TARGET) {
    const t = await startTestTracker(options);
    return {
      httpPort: t.httpPort,
      udpPort: t.udpPort,
      port: (protocol, family) => t.tracker.port(protocol, family),
      logLines: () => t.logs.lines,
      processes: 1,
      clock: () => t.clock,
      sweepAll: () => t.tracker.sweepAll(),
      close: () => t.tracker.close(),
    };
  }
  const redis = await startRedis();
  const port = await freePort('127.0.0.1');
  const args = ['--http-port', String(port), '--udp-port', String(port), '--web-http-port', '0', '--store', redis.url, '--workers', String(WORKERS)];
  if (!('host' in options)) args.push('--host', '127.0.0.1');
  for (const [key, value] of Object.entries(options) as [keyof TrackerOptions, unknown][]) {
    if (value === null || value === false || value === undefined) continue;
    args.push(flagOf(key));
    if (value !== true) args.push(String(value));
  }
  const daemon = spawnTracker(args);
  try {
    await daemon.waitForLine('workers ready');
  } catch (err) {
    await daemon.stop();
    await redis.stop();
    throw err;
  }
  const inOtherProcesses = (): never => {
    throw new Error('the tracker runs in other processes (WILDKAT_TARGET=workers)');
  };
  return {
    httpPort: port,
    udpPort: port,
    port: () => port,
    logLines: () => daemon.lines(),
    processes: WORKERS,
    clock: inOtherProcesses,
    sweepAll: inOtherProcesses,
    async close() {
      await daemon.stop();
      await redis.stop();
    },
  };
}
