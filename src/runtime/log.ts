/** pino logging, and a warning gate that a flood cannot turn into a full disk. */
import { pino, type Logger } from 'pino';
import type { Clock } from './clock.js';

export type { Logger };

/**
 * Synchronous writes to stdout: pino's default buffers and writes in the
 * background, and on exit flushes the rest synchronously, which can put the
 * last lines ("state saved", "stopped") before an earlier write still in
 * flight, or lose it. The daemon logs little (warnings are rate-limited).
 */
export function createLogger(verbose: boolean): Logger {
  return pino({ name: 'wildkat-tracker', level: verbose ? 'debug' : 'info' }, pino.destination({ dest: 1, sync: true }));
}

/**
 * Lets at most `limit` warnings through per `window` seconds; the rest are
 * counted and reported in one line when the next window opens.
 */
export class RateLimitedWarnings {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly limit: number;
  private readonly window: number;
  private windowStart = -Infinity;
  private sent = 0;
  private suppressed = 0;

  constructor(logger: Logger, clock: Clock, limit = 20, window = 60) {
    this.logger = logger;
    this.clock = clock;
    this.limit = limit;
    this.window = window;
  }

  warn(fields: Record<string, unknown>, message: string): void {
    const now = this.clock.now();
    if (now - this.windowStart >= this.window) {
      if (this.suppressed > 0) {
        this.logger.warn({ suppressed: this.suppressed, seconds: this.window }, 'warnings suppressed (rate limit)');
      }
      this.windowStart = now;
      this.sent = 0;
      this.suppressed = 0;
    }
    if (this.sent < this.limit) {
      this.sent++;
      this.logger.warn(fields, message);
    } else {
      this.suppressed++;
    }
  }
}
