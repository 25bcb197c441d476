/**
 * What the process does on signals. SIGTERM/SIGINT: stop taking requests,
 * drain, write the final state (however long that takes: cutting it would
 * lose every peer announced since the last save), then exit 0. A second
 * SIGTERM/SIGINT is the operator insisting: exit at once, loudly; the state
 * file's atomic rename keeps the previous snapshot whole. SIGHUP reloads the
 * certificate and the access list.
 */
import type { Logger } from '../runtime/log.js';

export interface Stoppable {
  close(): Promise<void>;
  /** SIGHUP: the certificate and the access list, loaded again. */
  reload(): void;
}

export interface SignalDeps {
  on(signal: NodeJS.Signals, handler: () => void): void;
  exit(code: number): void;
  logger: Logger;
}

export function handleSignals(tracker: Stoppable, deps: SignalDeps): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      deps.logger.error({ signal }, 'second signal: exiting now, before the shutdown finished; the state file keeps its previous snapshot');
      deps.exit(1);
      return;
    }
    stopping = true;
    deps.logger.info({ signal }, 'stopping: draining connections, then saving state if configured');
    tracker.close().then(
      () => deps.exit(0),
      (err: unknown) => {
        deps.logger.error({ err }, 'shutdown failed');
        deps.exit(1);
      },
    );
  };
  deps.on('SIGINT', () => stop('SIGINT'));
  deps.on('SIGTERM', () => stop('SIGTERM'));
  // acme.sh's --reloadcmd and systemd's ExecReload send SIGHUP: new certificate, same swarms.
  deps.on('SIGHUP', () => tracker.reload());
}
