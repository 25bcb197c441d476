/**
 * The swarm store on Redis 7 / Valkey (--store redis://…): several tracker
 * processes and machines share it and act as one tracker. It keeps the store
 * contract (store.ts) like the memory store; the key layout and the scripts
 * are in redis-scripts.ts.
 *
 * Announces are batched (redis-announce.ts): one round trip and one script
 * call for the announces of one event-loop turn. For each, the script
 * records the peer, purges the swarm's expired peers (sorted by last
 * announce, so nothing walks a whole swarm or the keyspace), updates the
 * counts, picks up to numwant peers from a rotating position and counts a
 * completion, atomically. Scrapes of several
 * hashes are pipelined. Tracker-wide totals are batched (redis-pending.ts)
 * and written every FLUSH_MS, and before any read of them. An abandoned
 * swarm's keys expire by themselves (key TTL).
 */
import type { ScrapeFile } from '../protocol/types.js';
import type { Logger } from '../runtime/log.js';
import { AnnounceBatcher } from './redis-announce.js';
import { RedisLink, Script } from './redis-connection.js';
import { LEECHER, PendingTotals, SEEDER } from './redis-pending.js';
import { ADMIT_LUA, ANNOUNCE_BATCH_LUA, DROP_DEAD_LUA, DROP_SWARM_LUA, FLUSH_LUA, PRUNE_LIVE_LUA, SCRAPE_LUA, TOTALS_LUA } from './redis-scripts.js';
import { TOP_SWARMS, type AnnounceOutcome, type StoreAnnounce, type StoreTotals, type SwarmStore, type SwarmSummary, type SweepResult } from './store.js';

const ANNOUNCE_BATCH = new Script('wkAnnounceBatch', 0, ANNOUNCE_BATCH_LUA);
const SCRAPE = new Script('wkScrape', 9, SCRAPE_LUA);
const DROP_DEAD = new Script('wkDropDead', 9, DROP_DEAD_LUA);
const FLUSH = new Script('wkFlush', 3, FLUSH_LUA);
const TOTALS = new Script('wkTotals', 2, TOTALS_LUA);
const PRUNE_LIVE = new Script('wkPruneLive', 1, PRUNE_LIVE_LUA);
const ADMIT = new Script('wkAdmit', 1, ADMIT_LUA);
const DROP_SWARM = new Script('wkDropSwarm', 9, DROP_SWARM_LUA);

/** How long tracker-wide changes wait before they are written (one script for all of them). */
export const FLUSH_MS = 100;
/** Swarm keys outlive their newest peer by this much, then Redis drops them itself. */
const KEY_TTL_SLACK_S = 300;
/** Swarms looked at, by last known size, to find the ten largest. */
const TOP_CANDIDATES = 50;
/** Hashes per pipelined batch of a full scrape. */
const SCRAPE_BATCH = 1000;
const KEY_CACHE_SIZE = 50_000;

export interface RedisStoreOptions {
  url: string;
  peerTtl: number;
  maxTorrents: number;
  logger: Logger;
  /** Key prefix: several trackers on one Redis are one tracker when they share it (tests isolate with it). */
  prefix?: string;
  commandTimeoutMs?: number;
  /** How long to wait for Redis at start before serving errors until it answers. */
  connectWaitMs?: number;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export class RedisStore implements SwarmStore {
  readonly link: RedisLink;
  private readonly peerTtl: number;
  private readonly maxTorrents: number;
  private readonly prefix: string;
  private readonly globalKeys: { live: string; t: string; z: string };
  private readonly pending = new PendingTotals();
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private top: SwarmSummary[] = [];
  private readonly batcher: AnnounceBatcher;

  private constructor(link: RedisLink, options: RedisStoreOptions) {
    this.link = link;
    this.peerTtl = options.peerTtl;
    this.maxTorrents = options.maxTorrents;
    this.prefix = options.prefix ?? 'wk';
    const tag = `${this.prefix}:{${this.prefix}}`;
    this.globalKeys = { live: `${tag}:live`, t: `${tag}:t`, z: `${tag}:z` };
    this.batcher = new AnnounceBatcher({
      link,
      script: ANNOUNCE_BATCH,
      prefix: this.prefix,
      peerTtl: this.peerTtl,
      keyTtl: this.peerTtl + KEY_TTL_SLACK_S,
      pending: this.pending,
      hex: (ih) => this.swarmHex(ih),
      admit: (ih, now) => this.admit(ih, now),
    });
    this.timer = setInterval(() => {
      if (!this.pending.empty) this.flush().catch(() => undefined);
    }, FLUSH_MS);
    this.timer.unref();
  }

  /** Connects (waiting up to connectWaitMs, default 5 s) and returns the store; it serves errors until Redis answers. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const link = new RedisLink({ url: options.url, logger: options.logger, ...(options.commandTimeoutMs !== undefined && { commandTimeoutMs: options.commandTimeoutMs }) });
    link.define([ANNOUNCE_BATCH, SCRAPE, DROP_DEAD, FLUSH, TOTALS, PRUNE_LIVE, ADMIT, DROP_SWARM]);
    await link.connect(options.connectWaitMs ?? 5000);
    return new RedisStore(link, options);
  }

  /** Recently used swarms' key names: building them (hex, five strings) costs more than the lookup. */
  private readonly keyCache = new Map<string, string[]>();
  private readonly hexCache = new Map<string, string>();

  private swarmHex(infoHash: string): string {
    let hex = this.hexCache.get(infoHash);
    if (hex === undefined) {
      hex = Buffer.from(infoHash, 'latin1').toString('hex');
      if (this.hexCache.size >= KEY_CACHE_SIZE) this.hexCache.clear();
      this.hexCache.set(infoHash, hex);
    }
    return hex;
  }

  private swarmKeys(infoHash: string): string[] {
    const cached = this.keyCache.get(infoHash);
    if (cached !== undefined) return cached;
    const tag = `${this.prefix}:{${this.swarmHex(infoHash)}}`;
    const keys = [`${tag}:i`, `${tag}:4s`, `${tag}:4l`, `${tag}:6s`, `${tag}:6l`, `${tag}:b4s`, `${tag}:b4l`, `${tag}:b6s`, `${tag}:b6l`];
    if (this.keyCache.size >= KEY_CACHE_SIZE) this.keyCache.clear();
    this.keyCache.set(infoHash, keys);
    return keys;
  }

  announce(input: StoreAnnounce, now: number): Promise<AnnounceOutcome | null> {
    return this.batcher.announce(input, now, Number.isFinite(this.maxTorrents));
  }

  /** Writes what is pending now; runs one flush at a time (a second caller waits for a fresh one). */
  flush(): Promise<void> {
    if (this.flushing !== null) return this.flushing.then(() => this.flush());
    if (this.pending.empty) return Promise.resolve();
    const batch = this.pending.take();
    const g = this.globalKeys;
    this.flushing = this.link.run(FLUSH, [g.live, g.t, g.z], batch.args()).then(
      () => {
        this.flushing = null;
      },
      (err: unknown) => {
        this.flushing = null;
        // Nothing is lost: the batch goes back and is written when Redis answers again.
        this.pending.restore(batch);
        throw err;
      },
    );
    return this.flushing;
  }

  private async admit(infoHash: string, now: number): Promise<boolean> {
    const flushed = this.flush();
    const ok = this.link.run(ADMIT, [this.globalKeys.t], [Buffer.from(infoHash, 'latin1'), now, now - this.peerTtl, this.maxTorrents]);
    await flushed;
    return num(await ok) === 1;
  }

  async scrape(infoHashes: readonly string[], now: number): Promise<ScrapeFile[]> {
    const cutoff = now - this.peerTtl;
    // Issued together: ioredis sends them as one pipeline.
    const replies = await Promise.all(infoHashes.map((ih) => this.link.run(SCRAPE, this.swarmKeys(ih), [now, cutoff])));
    return replies.map((r, i) => {
      const [complete, incomplete, downloaded] = (r as unknown[]).map(num);
      return { infoHash: infoHashes[i]!, complete: complete!, incomplete: incomplete!, downloaded: downloaded! };
    });
  }

  async scrapeAll(now: number): Promise<ScrapeFile[]> {
    await this.flush();
    const members = (await this.link.call('zrangebyscore', [this.globalKeys.t, `(${now - this.peerTtl}`, '+inf'])) as Buffer[];
    const files: ScrapeFile[] = [];
    for (let i = 0; i < members.length; i += SCRAPE_BATCH) {
      const batch = members.slice(i, i + SCRAPE_BATCH).map((m) => m.toString('latin1'));
      for (const f of await this.scrape(batch, now)) if (f.complete + f.incomplete > 0) files.push(f);
    }
    return files;
  }

  async totals(now: number): Promise<StoreTotals> {
    const g = this.globalKeys;
    const flushed = this.flush();
    const r = this.link.run(TOTALS, [g.live, g.t], [now - this.peerTtl]);
    await flushed;
    const [torrents, seeders, leechers] = ((await r) as unknown[]).map(num);
    return { torrents: torrents!, peers: seeders! + leechers!, seeders: seeders!, leechers: leechers! };
  }

  /**
   * Torrents whose newest announce is past the TTL: their keys are deleted
   * (unless another tracker's announce, not yet flushed, made them live again)
   * and they leave the index. A pass is done when fewer than `budget` remain.
   */
  async sweep(now: number, budget: number): Promise<SweepResult> {
    const cutoff = now - this.peerTtl;
    const g = this.globalKeys;
    await this.flush();
    const limit = Math.min(budget, 100_000);
    const dead = (await this.link.call('zrangebyscore', [g.t, '-inf', cutoff, 'LIMIT', 0, limit])) as Buffer[];
    const dropped = await Promise.all(dead.map((ih) => this.link.run(DROP_DEAD, this.swarmKeys(ih.toString('latin1')), [cutoff])));
    dead.forEach((ih, i) => {
      if (num(dropped[i]) === 1) this.pending.emptied(ih.toString('latin1'), cutoff);
    });
    await this.flush();
    const passDone = dead.length < limit;
    if (passDone) {
      await this.link.run(PRUNE_LIVE, [g.live], [cutoff]);
      await this.findTop(now);
    }
    return { removed: 0, work: dead.length, passDone };
  }

  /** The ten largest live swarms among the largest last reported. */
  private async findTop(now: number): Promise<void> {
    const candidates = ((await this.link.call('zrevrange', [this.globalKeys.z, 0, TOP_CANDIDATES - 1])) as Buffer[]).map((b) => b.toString('latin1'));
    const files = await this.scrape(candidates, now);
    const live: SwarmSummary[] = [];
    for (const f of files) {
      const peers = f.complete + f.incomplete;
      if (peers === 0) this.pending.emptied(f.infoHash, now - this.peerTtl);
      else {
        this.pending.resized(f.infoHash, peers);
        live.push({ ...f, peers });
      }
    }
    live.sort((a, b) => b.peers - a.peers || (a.infoHash < b.infoHash ? -1 : 1));
    this.top = live.slice(0, TOP_SWARMS);
  }

  topSwarms(): readonly SwarmSummary[] {
    return this.top;
  }

  /** Walks the torrent index (ZSCAN, in steps), deleting each torrent `refuse` picks and its peers' share of the totals. */
  async dropTorrents(refuse: (infoHash: string) => boolean, now: number): Promise<number> {
    await this.flush();
    const cutoff = now - this.peerTtl;
    let dropped = 0;
    let cursor = '0';
    do {
      const [next, items] = (await this.link.call('zscan', [this.globalKeys.t, cursor, 'COUNT', 1000])) as [Buffer, Buffer[]];
      cursor = next.toString();
      const picked: string[] = [];
      for (let i = 0; i < items.length; i += 2) {
        const ih = items[i]!.toString('latin1');
        if (refuse(ih)) picked.push(ih);
      }
      const replies = await Promise.all(picked.map((ih) => this.link.run(DROP_SWARM, this.swarmKeys(ih), [])));
      picked.forEach((ih, i) => {
        const [seeders, leechers] = replies[i] as [unknown[], unknown[]];
        for (const last of seeders) if (num(last) > cutoff) this.pending.peer(SEEDER, num(last), -1);
        for (const last of leechers) if (num(last) > cutoff) this.pending.peer(LEECHER, num(last), -1);
        // Whatever announce the index holds for it, the torrent is gone.
        this.pending.emptied(ih, Number.MAX_SAFE_INTEGER);
      });
      dropped += picked.length;
    } while (cursor !== '0');
    await this.flush();
    if (dropped > 0) this.top = this.top.filter((t) => !refuse(t.infoHash));
    return dropped;
  }

  /** Whether Redis answers a PING now (within the command timeout). */
  async ping(): Promise<boolean> {
    try {
      await this.link.call('ping', []);
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes every key of this store's prefix (tests). */
  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = (await this.link.client.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000)) as [string, string[]];
      if (keys.length > 0) await this.link.client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** Writes what is pending and disconnects. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
    await this.link.close();
  }
}
