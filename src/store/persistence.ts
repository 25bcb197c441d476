/**
 * --state-file at run time: load at start, save every --state-interval
 * seconds and a last time on stop, one save at a time. Works with any store
 * that implements the snapshot interface (Snapshottable).
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../runtime/clock.js';
import { ConfigError } from '../runtime/config.js';
import type { Logger } from '../runtime/log.js';
import { loadState, removeStaleTemporaries, saveState, type LoadResult } from './state-file.js';
import { isSnapshottable, type SwarmStore } from './store.js';

export interface Persistence {
  save(reason: string): Promise<void>;
  /** Stops the timer; saves a last time unless told not to. */
  stop(finalSave?: boolean): Promise<void>;
}

/** Loads --state-file now, then saves it every `intervalS` seconds and on stop. */
export async function startPersistence(
  path: string,
  store: SwarmStore,
  clock: Clock,
  logger: Logger,
  peerTtl: number,
  intervalS: number,
  onSaved?: (seconds: number) => void,
): Promise<Persistence> {
  if (!isSnapshottable(store)) throw new ConfigError('--state-file', 'this store cannot be saved to a file');
  const folder = dirname(path);
  if (!existsSync(folder)) throw new ConfigError('--state-file', `the folder ${folder} does not exist (create it, or choose another path)`);
  let loaded: LoadResult;
  try {
    const stale = removeStaleTemporaries(path);
    for (const f of stale.failed) logger.warn({ stateFile: path, temporary: f.path, code: f.code }, 'cannot remove a temporary file an earlier save left behind');
    loaded = await loadState(path, store, clock.now(), peerTtl);
  } catch (err) {
    throw new ConfigError('--state-file', `cannot use ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (loaded.missing) logger.info({ stateFile: path }, 'no state file yet: starting with empty swarms');
  else if (loaded.setAsideTo !== null) {
    logger.error(
      { stateFile: path, setAsideTo: loaded.setAsideTo, torrents: loaded.torrents, peers: loaded.peers, badLines: loaded.badLines, truncated: loaded.damaged, unreadable: loaded.unreadable },
      loaded.unreadable !== null ? 'state file unreadable: set aside, starting with what was read' : 'state file damaged: its good part was loaded and the file set aside',
    );
  } else logger.info({ stateFile: path, torrents: loaded.torrents, peers: loaded.peers }, 'swarms loaded from the state file');

  let saving: Promise<void> | null = null;
  const save = (reason: string): Promise<void> => {
    // One save at a time: a second request waits for the one under way, then saves again.
    const run = async (): Promise<void> => {
      const started = Date.now();
      try {
        const r = await saveState(path, store, clock.now());
        logger.info({ stateFile: path, reason, torrents: r.torrents, bytes: r.bytes, ms: Date.now() - started }, 'state saved');
        onSaved?.((Date.now() - started) / 1000);
      } catch (err) {
        logger.error({ stateFile: path, err: (err as Error).message }, 'state save failed; the previous snapshot is unchanged');
      }
    };
    saving = (saving ?? Promise.resolve()).then(run);
    const mine = saving;
    void mine.then(() => {
      if (saving === mine) saving = null;
    });
    return mine;
  };
  const timer = setInterval(() => void save('interval'), intervalS * 1000);
  timer.unref();
  return {
    save,
    async stop(finalSave = true) {
      clearInterval(timer);
      if (finalSave) await save('shutdown');
      else await saving;
    },
  };
}
