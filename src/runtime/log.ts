/** pino logging, and a warning gate that a flood cannot turn into a full disk. */
import { pino, type Logger } from 'pino';
import type { Clock } from './clock.js';
import { prettyDestination } from './pretty-log.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Synchronous writes to stdout: pino's default buffers and writes in the
 * background, and on exit flushes the rest synchronously, which can put the
 * last lines ("state saved", "stopped") before an earlier write still in
 * flight, or lose it. The daemon logs little (warnings are rate-limited).
 * Readable lines when stdout is a terminal, JSON otherwise (journald,
 * files, pipes).
 */
export function createLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  return pino({ name: 'wildkat-tracker', level }, pretty ? prettyDestination(1) : pino.destination({ dest: 1, sync: true }));
}

/** The level in force: --verbose means debug whatever --log-level says. */
export function logLevelOf(options: { verbose: boolean; logLevel: LogLevel }): LogLevel {
  return options.verbose ? 'debug' : options.logLevel;
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
