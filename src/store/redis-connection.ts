/**
 * The connection to Redis (or Valkey) behind --store: ioredis with settings
 * that keep a tracker answering when Redis is not. No offline queue (a
 * command while disconnected fails at once instead of waiting), a short
 * command timeout (a slow or stopped Redis fails a request well within 2 s),
 * reconnection with capped backoff, one log line when Redis goes away and one
 * when it is back. Scripts run by SHA, and are sent again after a restart
 * of Redis empties its script cache.
 */
import { Redis } from 'ioredis';
import { ProtocolError } from '../protocol/errors.js';
import type { Logger } from '../runtime/log.js';

/** Each Redis command of a request fails after this; an announce makes at most three in a row. */
export const COMMAND_TIMEOUT_MS = 600;
const MAX_BACKOFF_MS = 2000;

export type RedisArg = string | Buffer | number;
type CommandFn = (...args: RedisArg[]) => Promise<unknown>;

/** A Lua script, defined on the client as a command (EVALSHA, and EVAL after a NOSCRIPT). */
export class Script {
  readonly name: string;
  readonly lua: string;
  readonly keys: number;
  constructor(name: string, keys: number, lua: string) {
    this.name = name;
    this.keys = keys;
    this.lua = lua;
  }
}

/** `redis://…` / `rediss://…` with the password hidden, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_m, auth: string) => `//${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}

export interface RedisLinkOptions {
  url: string;
  logger: Logger;
  /** Milliseconds per command (tests lower it). */
  commandTimeoutMs?: number;
}

export class RedisLink {
  readonly client: Redis;
  private readonly logger: Logger;
  private readonly where: string;
  private downSince: number | null = null;
  private everReady = false;

  constructor(options: RedisLinkOptions) {
    this.logger = options.logger;
    this.where = redactUrl(options.url);
    this.client = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      commandTimeout: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), MAX_BACKOFF_MS),
    });
    this.client.on('error', (err: Error) => this.wentDown(err.message));
    this.client.on('close', () => this.wentDown('connection closed'));
    this.client.on('ready', () => this.cameBack());
  }

  private wentDown(reason: string): void {
    if (this.downSince !== null || !this.everReady) return;
    // A stopped or overloaded Redis keeps the connection and times out instead: the same outage.
    this.downSince = Date.now();
    this.logger.error({ store: this.where, reason }, 'redis unreachable: announces and scrapes get an error reply until it is back');
  }

  private cameBack(): void {
    this.everReady = true;
    // After a timeout outage the connection never closed: the first answer says Redis is back.
    if (this.downSince === null) return;
    this.logger.info({ store: this.where, downSeconds: Math.round((Date.now() - this.downSince) / 100) / 10 }, 'redis reachable again');
    this.downSince = null;
  }

  get reachable(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Connects, waiting at most `waitMs`; false if Redis did not answer by
   * then (the client keeps trying in the background).
   */
  async connect(waitMs: number): Promise<boolean> {
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    this.client.connect().catch(() => undefined);
    const ok = await ready;
    if (!ok) {
      this.everReady = true; // from now on, an outage is logged like any other
      this.downSince = Date.now();
      this.logger.error({ store: this.where }, 'redis not reachable yet: announces and scrapes get an error reply until it is');
    }
    return ok;
  }

  private readonly defined = new Set<string>();

  /**
   * Defines scripts as client commands. All of them before the first
   * command: an auto-pipeline copies the client's commands when it starts.
   */
  define(scripts: readonly Script[]): void {
    for (const script of scripts) {
      this.client.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua });
      this.defined.add(script.name);
    }
  }

  /** The client's method for a command (`<name>Buffer`: replies as Buffers, never decoded as UTF-8). */
  private method(name: string): CommandFn {
    const fn = (this.client as unknown as Record<string, CommandFn | undefined>)[`${name}Buffer`];
    if (fn === undefined) throw new Error(`no redis command ${name}`);
    return fn;
  }

  /** Runs a script; any Redis failure becomes `store_unavailable` for the client. */
  run(script: Script, keys: readonly RedisArg[], args: readonly RedisArg[]): Promise<unknown> {
    if (!this.defined.has(script.name)) throw new Error(`script ${script.name} not defined`);
    return this.settle(this.method(script.name).call(this.client, ...keys, ...args));
  }

  /** A plain command (lower-case name, as ioredis spells its methods), same error policy. */
  call(command: string, args: readonly RedisArg[]): Promise<unknown> {
    return this.settle(this.method(command).call(this.client, ...args));
  }

  private async settle(reply: Promise<unknown>): Promise<unknown> {
    try {
      const value = await reply;
      if (this.downSince !== null) this.cameBack();
      return value;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): ProtocolError {
    // Every command of an outage fails alike: the outage line says it once.
    this.wentDown(err instanceof Error ? err.message : String(err));
    return new ProtocolError('store_unavailable');
  }

  async close(): Promise<void> {
    this.everReady = false; // a deliberate close is not an outage
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
