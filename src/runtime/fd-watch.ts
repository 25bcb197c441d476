/**
 * Watches the process's file descriptors. When they run out, libuv accepts
 * and closes new connections itself (its EMFILE trick) and Node is never
 * told, so the only way to see it is to count: every few seconds, the open
 * descriptors against the limit.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const FD_CHECK_MS = 2000;
/** At or within this many of the limit counts as out of descriptors. */
const MARGIN = 8;

/** The soft limit on open files, or null where /proc is not there. */
export function fdLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** Open descriptors; Infinity when not even one more can be opened to count them. */
export function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? Infinity : null;
  }
}

export class FdWatch {
  private timer: NodeJS.Timeout | null = null;
  private readonly limit = fdLimit();
  private readonly onExhausted: (open: number, limit: number) => void;

  constructor(onExhausted: (open: number, limit: number) => void) {
    this.onExhausted = onExhausted;
  }

  start(intervalMs = FD_CHECK_MS): void {
    if (this.limit === null) return;
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  check(): void {
    const open = openFds();
    if (open !== null && this.limit !== null && open >= this.limit - MARGIN) this.onExhausted(Math.min(open, this.limit), this.limit);
  }
}
