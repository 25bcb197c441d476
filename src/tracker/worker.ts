/**
 * A --workers worker process: the tracker listeners on the shared ports,
 * the service and its own connection to the shared store. It answers the
 * primary's messages (figures for the stats page, reload, stop) and ignores
 * signals from outside: systemd and a terminal signal the whole process
 * group, and the primary drains the workers itself.
 */
import { ConfigError, type TrackerOptions } from '../runtime/config.js';
import { isWildkatMessage, SECRET_ENV, SEED_ENV, type FromWorker, type ToWorker } from './cluster.js';
import { startTracker, type RunningTracker } from './daemon.js';

function tell(m: FromWorker): void {
  process.send?.(m);
}

export async function runWorker(options: Partial<TrackerOptions>): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
  let tracker: RunningTracker;
  try {
    const secret = process.env[SECRET_ENV];
    tracker = await startTracker(options, {
      role: 'worker',
      statsSeed: Number(process.env[SEED_ENV] ?? 0),
      ...(secret !== undefined && { connectionSecret: Buffer.from(secret, 'hex') }),
    });
  } catch (err) {
    tell({ wk: 'failed', message: err instanceof Error ? err.message : String(err), usage: err instanceof ConfigError });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    tracker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        tracker.logger.error({ err }, 'worker shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('message', (m: unknown) => {
    if (!isWildkatMessage<ToWorker>(m)) return;
    if (m.wk === 'stats?') tell({ wk: 'stats', id: m.id, snapshot: tracker.snapshot() });
    else if (m.wk === 'reload') tracker.reload();
    else if (m.wk === 'stop') stop();
  });
  // The primary is gone (killed): nobody will tell this worker to stop.
  process.on('disconnect', stop);
  tracker.logger.info('worker ready');
  tell({ wk: 'ready', listeners: [...tracker.listeners] });
}
