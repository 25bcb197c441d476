/**
 * The access list file at run time: loaded at start (a file that cannot be
 * read stops the start, naming the flag), loaded again on SIGHUP and when it
 * changes on disk. A reload that cannot read the file keeps the list in
 * force and says why; bad lines are logged with their numbers and skipped.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ConfigError } from '../runtime/config.js';
import { FileWatch } from '../runtime/file-watch.js';
import type { Logger } from '../runtime/log.js';
import { AccessList, parseAccessList, type AccessMode } from './access-list.js';

export interface AccessListStatus {
  mode: AccessMode;
  path: string;
  size: number;
  /** Unix seconds of the last successful load. */
  loadedAt: number;
  reloadFailures: number;
}

export class AccessListFile {
  readonly path: string;
  readonly mode: AccessMode;
  private readonly logger: Logger;
  private list: AccessList;
  private loadedAt = 0;
  private reloadFailures = 0;
  private readonly file: FileWatch;
  /** Called after every successful reload with the new list (drops the swarms it refuses). */
  onReload: ((list: AccessList) => void) | null = null;

  constructor(path: string, mode: AccessMode, logger: Logger) {
    this.path = path;
    this.mode = mode;
    this.logger = logger;
    this.file = new FileWatch([path], 500, () => this.reload('file changed'));
    try {
      this.list = this.read('start');
    } catch (err) {
      throw new ConfigError(mode === 'allow' ? '--allow-list' : '--deny-list', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }

  get current(): AccessList {
    return this.list;
  }

  status(): AccessListStatus {
    return { mode: this.mode, path: this.path, size: this.list.size, loadedAt: this.loadedAt, reloadFailures: this.reloadFailures };
  }

  private read(reason: string): AccessList {
    const started = performance.now();
    const parsed = parseAccessList(readFileSync(this.path));
    const list = new AccessList(this.mode, parsed.hashes);
    for (const b of parsed.bad) this.logger.warn({ list: this.path, line: b.line, text: b.text }, 'access list: not an info hash (40 or 64 hex digits), line skipped');
    if (parsed.badLines > parsed.bad.length) this.logger.warn({ list: this.path, more: parsed.badLines - parsed.bad.length }, 'access list: more bad lines skipped');
    this.loadedAt = Math.floor(Date.now() / 1000);
    this.logger.info(
      { list: this.path, mode: this.mode, hashes: list.size, badLines: parsed.badLines, duplicates: parsed.duplicates, ms: Math.round(performance.now() - started), reason },
      'access list loaded',
    );
    return list;
  }

  /** Loads the file again; on failure the list in force stays. Returns whether it worked. */
  reload(reason: string): boolean {
    let list: AccessList;
    try {
      list = this.read(reason);
    } catch (err) {
      this.reloadFailures++;
      this.logger.error({ list: this.path, reason, err: (err as NodeJS.ErrnoException).code ?? (err as Error).message }, 'access list reload failed; keeping the list in force');
      return false;
    }
    this.list = list;
    this.onReload?.(list);
    return true;
  }

  watch(intervalMs: number): void {
    this.file.start(intervalMs);
  }

  stop(): void {
    this.file.stop();
  }
}
