/**
 * Watching files a running tracker reads (certificate, key, access list)
 * for changes: polled (polling survives a file replaced by a rename, not
 * just rewritten), and told once the files have settled, since writers
 * (acme.sh, editors, deploys) write in several steps.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';

export class FileWatch {
  private readonly paths: readonly string[];
  private readonly settleMs: number;
  private readonly changed: () => void;
  private watching = false;
  private debounce: NodeJS.Timeout | null = null;
  private readonly onStat = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.changed();
    }, this.settleMs);
    this.debounce.unref();
  };

  constructor(paths: readonly string[], settleMs: number, changed: () => void) {
    this.paths = paths;
    this.settleMs = settleMs;
    this.changed = changed;
  }

  start(intervalMs: number): void {
    if (this.watching) return;
    this.watching = true;
    for (const p of this.paths) watchFile(p, { interval: intervalMs, persistent: false }, this.onStat);
  }

  stop(): void {
    if (this.debounce) clearTimeout(this.debounce);
    if (!this.watching) return;
    for (const p of this.paths) unwatchFile(p, this.onStat);
    this.watching = false;
  }
}
