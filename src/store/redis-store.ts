/**
 * The swarm store on Redis 7 / Valkey (--store redis://…): several tracker
 * processes and machines share it and act as one tracker. It keeps the store
 * contract (store.ts) like the memory store; the key layout and the scripts
 * are in redis-scripts.ts.
 *
 * One round trip per announce: a script records the peer, purges the
 * swarm's expired peers (sorted by last announce, so nothing walks a whole
 * swarm or the keyspace), updates the counts, picks up to numwant peers from
 * a rotating position and counts a completion, atomically. Scrapes of several
 * hashes are pipelined. Tracker-wide totals are batched (redis-pending.ts)
 * and written every FLUSH_MS, and before any read of them. An abandoned
 * swarm's keys expire by themselves (key TTL).
 */
import { EMPTY_PEERS, PEER_ID_LENGTH, type PeerSet } from '../protocol/peers.js';
import type { ScrapeFile } from '../protocol/types.js';
import type { Logger } from '../runtime/log.js';
import { RedisLink, Script } from './redis-connection.js';
import { LEECHER, PendingTotals, SEEDER } from './redis-pending.js';
import { ADMIT_LUA, ANNOUNCE_BATCH_LUA, DROP_DEAD_LUA, DROP_SWARM_LUA, FLUSH_LUA, PRUNE_LIVE_LUA, RECORD_SIZE, REPLY_HEADER, SCRAPE_LUA, TOTALS_LUA } from './redis-scripts.js';
import type { AnnounceOutcome, StoreAnnounce, StoreTotals, SwarmStore, SwarmSummary, SweepResult } from './store.js';

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
const TOP = 10;
/** Hashes per pipelined batch of a full scrape. */
const SCRAPE_BATCH = 1000;
const KEY_CACHE_SIZE = 50_000;

const EVENT_CODE = { started: 0x73, completed: 0x63, stopped: 0x78, none: 0x6e } as const;
/** Announces per script call at most: a batch holds Redis for about 10 µs an announce. */
const MAX_BATCH = 256;
const FLAG_SEEDER = 1;
const FLAG_ADMIT = 2;

interface Queued {
  input: StoreAnnounce;
  now: number;
  admitCheck: boolean;
  resolve: (outcome: AnnounceOutcome | null) => void;
  reject: (err: unknown) => void;
}

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

const MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/**
 * The reply's peers from the records the script read (peer id + compact
 * address; IPv6 ones first): up to `want` of them, the requester's own
 * record (at `selfAt` among its family's, or -1) left out, in the
 * requester's compact form (IPv4 mapped for an IPv6 client).
 */
function peerSet(addrs: Uint8Array, ids: Uint8Array, v6: boolean, want: number, pieces: readonly Buffer[], len6: number, selfAt: number): PeerSet {
  const entrySize = v6 ? 18 : 6;
  const withIds = ids.length > 0;
  const skip6 = v6 ? selfAt : -1;
  const skip4 = v6 ? -1 : selfAt;
  let count = 0;
  // Offset of each record within its family's records (all IPv6 pieces come first).
  let at = 0;
  for (const piece of pieces) {
    for (let o = 0; o < piece.length && count < want; ) {
      const inV6 = at < len6;
      const size = inV6 ? PEER_ID_LENGTH + 18 : PEER_ID_LENGTH + 6;
      if (o + size > piece.length) break;
      if (at !== (inV6 ? skip6 : len6 + skip4)) {
        // Byte loops: Buffer#copy with offsets makes a view object per call, 50 a reply.
        let to = count * entrySize;
        if (v6 && !inV6) {
          for (let b = 0; b < 12; b++) addrs[to + b] = MAPPED[b]!;
          to += 12;
        }
        for (let b = o + PEER_ID_LENGTH; b < o + size; b++) addrs[to++] = piece[b]!;
        if (withIds) for (let b = 0, t = count * PEER_ID_LENGTH; b < PEER_ID_LENGTH; b++) ids[t + b] = piece[o + b]!;
        count++;
      }
      o += size;
      at += size;
    }
  }
  return { count, entrySize, addrs, ids };
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

  private constructor(link: RedisLink, options: RedisStoreOptions) {
    this.link = link;
    this.peerTtl = options.peerTtl;
    this.maxTorrents = options.maxTorrents;
    this.prefix = options.prefix ?? 'wk';
    const tag = `${this.prefix}:{${this.prefix}}`;
    this.globalKeys = { live: `${tag}:live`, t: `${tag}:t`, z: `${tag}:z` };
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
  /** Announces waiting for the next batch, sent when this turn of the event loop is done. */
  private queue: Queued[] = [];
  private batchScheduled = false;

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
    return this.enqueue(input, now, Number.isFinite(this.maxTorrents));
  }

  private enqueue(input: StoreAnnounce, now: number, admitCheck: boolean): Promise<AnnounceOutcome | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, now, admitCheck, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.sendBatch();
      else if (!this.batchScheduled) {
        this.batchScheduled = true;
        // After the poll phase: every datagram and request read in this turn joins the batch.
        setImmediate(() => {
          this.batchScheduled = false;
          this.sendBatch();
        });
      }
    });
  }

  private sendBatch(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const recs = Buffer.allocUnsafe(batch.length * RECORD_SIZE);
    for (let i = 0; i < batch.length; i++) {
      const { input, now, admitCheck } = batch[i]!;
      const o = i * RECORD_SIZE;
      const v6 = input.addr.length === 18;
      recs[o] = v6 ? 0x36 : 0x34;
      recs[o + 1] = (input.seeder ? FLAG_SEEDER : 0) | (admitCheck ? FLAG_ADMIT : 0);
      recs[o + 2] = EVENT_CODE[input.event];
      recs.writeUInt16BE(Math.min(input.numwant, 0xffff), o + 3);
      recs.writeUInt32BE(now, o + 5);
      recs.write(this.swarmHex(input.infoHash), o + 9, 40, 'latin1');
      recs.write(input.peerId, o + 49, 20, 'latin1');
      recs.fill(0, o + 69, o + RECORD_SIZE);
      recs.write(input.addr, o + 69, input.addr.length, 'latin1');
    }
    this.link.run(ANNOUNCE_BATCH, [], [this.prefix, this.peerTtl, this.peerTtl + KEY_TTL_SLACK_S, recs]).then(
      (reply) => this.settleBatch(batch, reply),
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  private settleBatch(batch: readonly Queued[], reply: unknown): void {
    const parts = Array.isArray(reply) ? (reply as unknown[]) : [];
    // One allocation for every reply's peers in the batch (a small Buffer each cost more in garbage collection than the rest of the reply).
    let bytes = 0;
    for (let j = 0, k = 0; j < batch.length && k < parts.length; j++) {
      const head = parts[k];
      if (!Buffer.isBuffer(head) || head.length !== REPLY_HEADER) break;
      const input = batch[j]!.input;
      bytes += Math.max(0, head.readInt32BE(13)) * ((input.addr.length === 18 ? 18 : 6) + (input.peerIds === true ? PEER_ID_LENGTH : 0));
      k += 1 + head[35]!;
    }
    const arena = new Uint8Array(bytes);
    let used = 0;
    const take = (n: number): Uint8Array => arena.subarray(used, (used += n));
    let i = 0;
    for (const q of batch) {
      const head = parts[i++];
      if (!Buffer.isBuffer(head) || head.length !== REPLY_HEADER) {
        q.reject(new Error('unexpected reply from the announce script'));
        continue;
      }
      const status = head.readInt8(0);
      const complete = head.readInt32BE(1);
      const incomplete = head.readInt32BE(5);
      const downloaded = head.readInt32BE(9);
      const want = head.readInt32BE(13);
      const prevRole = head[17]!;
      const prevLast = head.readInt32BE(18);
      const newRole = head[22]!;
      const len6 = head.readUInt32BE(23);
      const selfAt = head.readInt32BE(31);
      const pieces = parts.slice(i, i + head[35]!) as Buffer[];
      i += pieces.length;
      if (status === -1) {
        // A torrent new to every tracker on this Redis: it takes a place under --max-torrents first.
        this.admit(q.input.infoHash, q.now).then(
          (ok) => (ok ? this.enqueue(q.input, q.now, false).then(q.resolve, q.reject) : q.resolve(null)),
          q.reject,
        );
        continue;
      }
      const { input, now } = q;
      if (prevRole === SEEDER || prevRole === LEECHER) this.pending.peer(prevRole, prevLast, -1);
      if (newRole === SEEDER || newRole === LEECHER) this.pending.peer(newRole, now, 1);
      if (status === 2) this.pending.emptied(input.infoHash, now);
      else if (newRole > 0) this.pending.announced(input.infoHash, now, complete + incomplete);
      else if (prevRole > 0) this.pending.resized(input.infoHash, complete + incomplete);
      const v6 = input.addr.length === 18;
      const peers = want > 0 ? peerSet(take(want * (v6 ? 18 : 6)), input.peerIds === true ? take(want * PEER_ID_LENGTH) : EMPTY_PEERS.ids, v6, want, pieces, len6, selfAt) : EMPTY_PEERS;
      q.resolve({ complete, incomplete, downloaded, peers });
    }
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
    this.top = live.slice(0, TOP);
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
