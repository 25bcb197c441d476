/**
 * Drives the store's expiry. A slice works for about TARGET_SLICE_MS, in
 * chunks of CHUNK units (a torrent visited or a peer removed), checking the
 * time between chunks: the work per slice follows what the store costs right
 * now (cheap visits, dear removals from a huge swarm), and no slice runs
 * much past the target. While a mass expiry is under way slices follow each
 * other quickly (the loop still gets ~80 % of the time); otherwise one a tick.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/log.js';
import type { SwarmStore, SweepResult } from './store.js';

export const SWEEP_TICK_MS = 1000;
/** Units per store call; a chunk of the dearest units still costs only a few ms. */
export const CHUNK = 2000;
/** What a slice should cost. */
export const TARGET_SLICE_MS = 6;
/** While a backlog lasts, the pause after a slice is this many times the slice. */
const BACKLOG_PAUSE_FACTOR = 4;
const MIN_PAUSE_MS = 10;

export interface SweeperDeps {
  store: SwarmStore;
  clock: Clock;
  logger: Logger;
  /** Monotonic milliseconds (tests inject one). */
  monotonicMs?: () => number;
  /** Told each slice's duration, ms (the metrics histogram). */
  onSlice?: (ms: number) => void;
  /** Runs `fn` after `ms` (tests drive it by hand). */
  schedule?: (fn: () => void, ms: number) => { cancel(): void };
}

function timerSchedule(fn: () => void, ms: number): { cancel(): void } {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
}

export class Sweeper {
  private readonly deps: SweeperDeps;
  private readonly monotonicMs: () => number;
  private readonly schedule: (fn: () => void, ms: number) => { cancel(): void };
  private pending: { cancel(): void } | null = null;
  private stopped = true;
  /** Units of work of the last slice. */
  lastSliceWork = 0;
  /** The longest slice so far, ms. */
  worstSliceMs = 0;
  lastSliceMs = 0;

  constructor(deps: SweeperDeps) {
    this.deps = deps;
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
    this.schedule = deps.schedule ?? timerSchedule;
  }

  start(): void {
    this.stopped = false;
    this.next(SWEEP_TICK_MS);
  }

  stop(): void {
    this.stopped = true;
    this.pending?.cancel();
    this.pending = null;
  }

  private next(ms: number): void {
    if (this.stopped) return;
    this.pending = this.schedule(() => this.slice(), ms);
  }

  /** One slice now; schedules the next one. */
  slice(): void {
    const started = this.monotonicMs();
    const now = this.deps.clock.now();
    const total: SweepResult = { removed: 0, work: 0, passDone: false };
    try {
      for (;;) {
        const r = this.deps.store.sweep(now, CHUNK);
        if (r instanceof Promise) {
          // A shared store: one call per slice, its cost is the server's.
          r.then(
            (x) => this.after(x, this.monotonicMs() - started),
            (err: unknown) => this.failed(err),
          );
          return;
        }
        total.removed += r.removed;
        total.work += r.work;
        total.passDone = r.passDone;
        if (r.passDone || r.work < CHUNK || this.monotonicMs() - started >= TARGET_SLICE_MS) break;
      }
    } catch (err) {
      this.failed(err);
      return;
    }
    this.after(total, this.monotonicMs() - started);
  }

  private failed(err: unknown): void {
    this.deps.logger.error({ err }, 'sweep failed');
    this.next(SWEEP_TICK_MS);
  }

  private after(r: SweepResult, ms: number): void {
    this.lastSliceMs = ms;
    this.deps.onSlice?.(ms);
    this.lastSliceWork = r.work;
    if (ms > this.worstSliceMs) this.worstSliceMs = ms;
    // A backlog of expired peers: come back soon rather than a second later.
    const backlog = r.removed > 0 && !r.passDone;
    this.next(backlog ? Math.max(MIN_PAUSE_MS, ms * BACKLOG_PAUSE_FACTOR) : SWEEP_TICK_MS);
  }
}
