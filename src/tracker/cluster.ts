/**
 * --workers N: N worker processes (node:cluster) serve the tracker ports
 * together (the primary shares the HTTP listeners and the UDP socket with
 * them) on one shared store. The primary serves the stats page and runs the
 * sweeper; its figures are every worker's together. It restarts a worker
 * that dies, passes SIGHUP on, and on SIGTERM/SIGINT drains every worker
 * before it exits. Workers ignore signals from outside (systemd signals the
 * whole group at once): the primary tells them what to do.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes, randomInt } from 'node:crypto';
import type { ListenerInfo } from '../frontend/listen.js';
import type { TrackerOptions } from '../runtime/config.js';
import type { Logger } from '../runtime/log.js';
import { mergeSnapshots, type ActivitySnapshot } from '../stats/snapshot.js';
import { startTracker, type RunningTracker } from './daemon.js';

export type ToWorker = { wk: 'stats?'; id: number } | { wk: 'reload' } | { wk: 'stop' };
export type FromWorker =
  | { wk: 'ready'; listeners: ListenerInfo[] }
  | { wk: 'failed'; message: string; usage: boolean }
  | { wk: 'stats'; id: number; snapshot: ActivitySnapshot };

export const SEED_ENV = 'WILDKAT_STATS_SEED';
export const SECRET_ENV = 'WILDKAT_CONNECTION_SECRET';
/** How long the stats page waits for a worker's figures. */
const STATS_WAIT_MS = 1000;
/** A worker that dies sooner than this after its start counts as crashing. */
const STABLE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** One of ours (prom-client's cluster messages share the channel). */
export function isWildkatMessage<T extends { wk: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { wk?: unknown }).wk === 'string';
}

/** A worker could not start (a port in use, a bad option): the whole start fails with its message. */
export class WorkerStartError extends Error {
  override readonly name = 'WorkerStartError';
  readonly usage: boolean;
  constructor(message: string, usage: boolean) {
    super(message);
    this.usage = usage;
  }
}

export interface PrimaryHandle {
  /** Drains every worker, then the stats part; resolves when all have stopped. */
  close(): Promise<void>;
  /** SIGHUP: every worker and the stats page load the certificate and the access list again. */
  reload(): void;
  readonly logger: Logger;
  /** The workers' tracker listeners and the primary's stats page listeners. */
  readonly listeners: readonly ListenerInfo[];
}

export async function startPrimary(options: TrackerOptions, logger: Logger): Promise<PrimaryHandle> {
  const seed = randomInt(0, 2 ** 31);
  // One key for every worker's UDP connection ids: the datagrams of one client reach any of them.
  const secret = randomBytes(8).toString('hex');
  const workers = new Set<Worker>();
  /** Workers that reported ready and have not exited (GET /health). */
  const serving = new Set<Worker>();
  let stopping = false;
  let nextStatsId = 1;
  const waiting = new Map<number, (s: ActivitySnapshot) => void>();
  let restartDelay = 1000;

  const fork = (): Promise<ListenerInfo[]> => {
    const worker = cluster.fork({ [SEED_ENV]: String(seed), [SECRET_ENV]: secret });
    const startedAt = Date.now();
    workers.add(worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: unknown) => {
        if (!isWildkatMessage<FromWorker>(m)) return;
        if (m.wk === 'ready') {
          ready = true;
          serving.add(worker);
          resolve(m.listeners);
        } else if (m.wk === 'failed') reject(new WorkerStartError(m.message, m.usage));
        else if (m.wk === 'stats') waiting.get(m.id)?.(m.snapshot);
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        serving.delete(worker);
        if (!ready) {
          reject(new WorkerStartError(`a worker exited before it was ready (${signal ?? `code ${code}`})`, false));
          return;
        }
        if (stopping) return;
        const lived = Date.now() - startedAt;
        restartDelay = lived > STABLE_MS ? 1000 : Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
        logger.error({ worker: worker.process.pid, code, signal, restartInMs: restartDelay }, 'worker died: starting another');
        setTimeout(() => {
          if (!stopping) fork().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'restarted worker failed to start'));
        }, restartDelay).unref();
      });
    });
  };

  const send = (w: Worker, m: ToWorker): void => {
    if (w.isConnected()) w.send(m);
  };

  /** Every worker's figures, merged; a worker that does not answer within STATS_WAIT_MS is left out. */
  const gather = async (): Promise<ActivitySnapshot> => {
    const replies = await Promise.all(
      [...workers].map(
        (w) =>
          new Promise<ActivitySnapshot | null>((resolve) => {
            const id = nextStatsId++;
            const timer = setTimeout(() => {
              waiting.delete(id);
              resolve(null);
            }, STATS_WAIT_MS);
            waiting.set(id, (s) => {
              clearTimeout(timer);
              waiting.delete(id);
              resolve(s);
            });
            send(w, { wk: 'stats?', id });
          }),
      ),
    );
    return mergeSnapshots(replies.filter((r): r is ActivitySnapshot => r !== null)) ?? stats.snapshot();
  };

  let stats: RunningTracker;
  let listeners: ListenerInfo[];
  try {
    const started = await Promise.all(Array.from({ length: options.workers }, () => fork()));
    listeners = started[0] ?? [];
    stats = await startTracker(options, {
      logger,
      role: 'stats',
      statsSeed: seed,
      source: { snapshot: gather },
      workersUp: () => ({ up: serving.size, expected: options.workers }),
    });
  } catch (err) {
    stopping = true;
    for (const w of workers) w.process.kill('SIGKILL');
    throw err;
  }
  for (const l of listeners) logger.info({ protocol: l.protocol, address: l.address, port: l.port }, 'listening');
  logger.info({ workers: options.workers, pids: [...workers].map((w) => w.process.pid) }, 'workers ready');

  const exited = (w: Worker): Promise<void> =>
    new Promise((resolve) => {
      if (w.isDead()) resolve();
      else w.once('exit', () => resolve());
    });

  return {
    logger,
    listeners: [...listeners, ...stats.listeners],
    async close() {
      stopping = true;
      const all = [...workers];
      for (const w of all) send(w, { wk: 'stop' });
      await Promise.all(all.map(exited));
      await stats.close();
    },
    reload() {
      for (const w of workers) send(w, { wk: 'reload' });
      stats.reload();
    },
  };
}
