/**
 * Event-loop delay for the stats: the recent window beside the worst since
 * start, so one stall at start-up does not hide every later one.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelayFigures {
  /** p99 and worst of the last one to two minutes, ms. */
  recentP99Ms: number;
  recentMaxMs: number;
  /** The worst since start, ms. */
  maxSinceStartMs: number;
}

const WINDOW_MS = 60_000;

function ms(ns: number): number {
  return Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0;
}

export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });
  private previous = { p99: 0, max: 0 };
  private maxSinceStart = 0;
  private timer: NodeJS.Timeout | null = null;

  start(windowMs = WINDOW_MS): void {
    this.histogram.enable();
    this.timer = setInterval(() => this.roll(), windowMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.histogram.disable();
  }

  /** Closes the current window: its figures become the previous window's. */
  roll(): void {
    const max = this.histogram.count > 0 ? this.histogram.max : 0;
    this.previous = { p99: this.histogram.count > 0 ? this.histogram.percentile(99) : 0, max };
    if (max > this.maxSinceStart) this.maxSinceStart = max;
    this.histogram.reset();
  }

  figures(): LoopDelayFigures {
    const h = this.histogram;
    const p99 = h.count > 0 ? h.percentile(99) : 0;
    const max = h.count > 0 ? h.max : 0;
    return {
      recentP99Ms: ms(Math.max(p99, this.previous.p99)),
      recentMaxMs: ms(Math.max(max, this.previous.max)),
      maxSinceStartMs: ms(Math.max(max, this.maxSinceStart)),
    };
  }
}
