/**
 * The Redis store's announces, batched: every announce that arrives in one
 * turn of the event loop goes to Redis in one call of the announce script
 * (redis-scripts.ts), and each caller gets its own outcome back. The
 * per-command costs of ioredis and of Redis are paid once per batch.
 */
import { EMPTY_PEERS, PEER_ID_LENGTH, type PeerSet } from '../protocol/peers.js';
import type { RedisLink, Script } from './redis-connection.js';
import { LEECHER, type PendingTotals, SEEDER } from './redis-pending.js';
import { RECORD_SIZE, REPLY_HEADER } from './redis-scripts.js';
import type { AnnounceOutcome, StoreAnnounce } from './store.js';

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

const MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/**
 * The reply's peers from the records the script read (peer id + compact
 * address; IPv6 ones first): up to `want` of them, the requester's own
 * record (at `selfAt` among its family's, or -1) left out, in the
 * requester's compact form (IPv4 mapped for an IPv6 client).
 */
function peerSet(addrs: Uint8Array, ids: Uint8Array, v6: boolean, want: number, pieces: readonly Buffer[], len6: number, selfAt: number, twinAt: number): PeerSet {
  const entrySize = v6 ? 18 : 6;
  const withIds = ids.length > 0;
  const skip6 = v6 ? selfAt : -1;
  const skip4 = v6 ? twinAt : selfAt;
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

export interface AnnounceBatcherOptions {
  link: RedisLink;
  script: Script;
  prefix: string;
  peerTtl: number;
  keyTtl: number;
  pending: PendingTotals;
  /** The swarm's hex info_hash (cached by the store). */
  hex: (infoHash: string) => string;
  /** A torrent new to every tracker on this Redis takes a place under --max-torrents (false: refused). */
  admit: (infoHash: string, now: number) => Promise<boolean>;
}

export class AnnounceBatcher {
  private readonly o: AnnounceBatcherOptions;
  /** Announces waiting for the next batch, sent when this turn of the event loop is done. */
  private queue: Queued[] = [];
  private batchScheduled = false;

  constructor(options: AnnounceBatcherOptions) {
    this.o = options;
  }

  announce(input: StoreAnnounce, now: number, admitCheck: boolean): Promise<AnnounceOutcome | null> {
    return this.enqueue(input, now, admitCheck);
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
      recs.write(this.o.hex(input.infoHash), o + 9, 40, 'latin1');
      recs.write(input.peerId, o + 49, 20, 'latin1');
      recs.fill(0, o + 69, o + RECORD_SIZE);
      recs.write(input.addr, o + 69, input.addr.length, 'latin1');
    }
    this.o.link.run(this.o.script, [], [this.o.prefix, this.o.peerTtl, this.o.keyTtl, recs]).then(
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
      k += 1 + head[39]!;
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
      const twinAt = head.readInt32BE(35);
      const pieces = parts.slice(i, i + head[39]!) as Buffer[];
      i += pieces.length;
      if (status === -1) {
        // A torrent new to every tracker on this Redis: it takes a place under --max-torrents first.
        this.o.admit(q.input.infoHash, q.now).then(
          (ok) => (ok ? this.enqueue(q.input, q.now, false).then(q.resolve, q.reject) : q.resolve(null)),
          q.reject,
        );
        continue;
      }
      const { input, now } = q;
      if (prevRole === SEEDER || prevRole === LEECHER) this.o.pending.peer(prevRole, prevLast, -1);
      if (newRole === SEEDER || newRole === LEECHER) this.o.pending.peer(newRole, now, 1);
      if (status === 2) this.o.pending.emptied(input.infoHash, now);
      else if (newRole > 0) this.o.pending.announced(input.infoHash, now, complete + incomplete);
      else if (prevRole > 0) this.o.pending.resized(input.infoHash, complete + incomplete);
      const v6 = input.addr.length === 18;
      const peers = want > 0 ? peerSet(take(want * (v6 ? 18 : 6)), input.peerIds === true ? take(want * PEER_ID_LENGTH) : EMPTY_PEERS.ids, v6, want, pieces, len6, selfAt, twinAt) : EMPTY_PEERS;
      q.resolve({ complete, incomplete, downloaded, peers });
    }
  }
}
