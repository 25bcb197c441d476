/**
 * One address family of one swarm, as fixed-size records in an arena
 * segment: compact address (6 or 18 bytes), peer id (20), last announce
 * (4, big-endian seconds), role (1). Leechers fill the segment from the
 * front, seeders from the back, so each role is one contiguous range and a
 * reply copies addresses from a rotating position without chasing pointers.
 * Removal is swap-remove (the range's end record moves into the hole). A
 * table of up to INDEX_AT peers is searched by scanning its ids; a larger
 * one keeps an open-addressing index (peer id hash → position).
 */
import { PEER_ID_LENGTH } from '../protocol/peers.js';
import { RecordArena } from './arena.js';
import { FIELDS, type TorrentTable } from './torrent-table.js';

const F_DOWNLOADED = FIELDS.indexOf('downloaded');
const F_NEWEST = FIELDS.indexOf('newest');
const F_CHUNK = FIELDS.indexOf('chunkId');
const F_BASE = FIELDS.indexOf('base');
const F_CAP = FIELDS.indexOf('cap');
const F_NL = FIELDS.indexOf('nL');
const F_NS = FIELDS.indexOf('nS');
const F_CURSOR_L = FIELDS.indexOf('cursorL');
const F_CURSOR_S = FIELDS.indexOf('cursorS');
const F_MIN_LAST = FIELDS.indexOf('minLast');

/** Past this many peers a table keeps an index instead of scanning. */
const INDEX_AT = 32;
const EMPTY = 0;
const TOMBSTONE = -1;
/** Later than any announce (the largest small integer): "no peer". */
export const NEVER = 0x7fffffff;
const NO_RECORDS = new Uint8Array(0);

export const V4_RECORD = 32;
export const V6_RECORD = 48;

function hashString(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < PEER_ID_LENGTH; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function hashBytes(b: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < PEER_ID_LENGTH; i++) h = Math.imul(h ^ b[at + i]!, 0x01000193);
  return h >>> 0;
}

/** Where one family's records live: capacities 3, 6, 12, … (a unit of 3: a swarm of 5 wastes one record, not three). */
export interface FamilyArenas {
  main: RecordArena;
}

export function familyArenas(recordSize: number): FamilyArenas {
  return { main: new RecordArena(recordSize, 3) };
}

export class PeerTable {
  readonly arenas: FamilyArenas;
  /** 6 or 18. */
  readonly addrLen: number;
  chunk: Uint8Array;
  chunkId = 0;
  base: number;
  cap: number;
  /** Leechers at positions [0, nL), seeders at [cap - nS, cap). */
  nL = 0;
  nS = 0;
  /** Where the next peer list starts in each range (offsets into the range). */
  cursorL = 0;
  cursorS = 0;
  /** No record is older than this (a lower bound: exact after every expiry scan); a small integer, not a boxed double. */
  minLast = NEVER;
  index: Int32Array | null = null;
  tombstones = 0;

  constructor(arenas: FamilyArenas, addrLen: number) {
    this.arenas = arenas;
    this.addrLen = addrLen;
    // No segment until the first peer.
    this.chunk = NO_RECORDS;
    this.base = 0;
    this.cap = 0;
  }

  /** Peers in this table. */
  get n(): number {
    return this.nL + this.nS;
  }

  /** Byte offset of position `p`. */
  at(p: number): number {
    return (this.base + p) * this.arenas.main.recordSize;
  }

  last(p: number): number {
    const o = this.at(p) + this.addrLen + PEER_ID_LENGTH;
    const c = this.chunk;
    return ((c[o]! << 24) | (c[o + 1]! << 16) | (c[o + 2]! << 8) | c[o + 3]!) >>> 0;
  }

  isSeeder(p: number): boolean {
    return p >= this.cap - this.nS;
  }

  /** Position of `peerId`, or -1. */
  find(peerId: string): number {
    if (this.index !== null) {
      const mask = this.index.length - 1;
      for (let i = hashString(peerId) & mask; ; i = (i + 1) & mask) {
        const e = this.index[i]!;
        if (e === EMPTY) return -1;
        if (e !== TOMBSTONE && this.idEquals(e - 1, peerId)) return e - 1;
      }
    }
    for (let p = 0; p < this.nL; p++) if (this.idEquals(p, peerId)) return p;
    for (let p = this.cap - this.nS; p < this.cap; p++) if (this.idEquals(p, peerId)) return p;
    return -1;
  }

  private idEquals(p: number, peerId: string): boolean {
    const o = this.at(p) + this.addrLen;
    const c = this.chunk;
    for (let i = 0; i < PEER_ID_LENGTH; i++) if (c[o + i] !== peerId.charCodeAt(i)) return false;
    return true;
  }

  /** Writes address (latin1), last and role at position `p`; the id is written by `add`. */
  private writeFields(p: number, addr: string, last: number): void {
    const o = this.at(p);
    const c = this.chunk;
    for (let i = 0; i < this.addrLen; i++) c[o + i] = addr.charCodeAt(i);
    const l = o + this.addrLen + PEER_ID_LENGTH;
    c[l] = last >>> 24;
    c[l + 1] = (last >>> 16) & 0xff;
    c[l + 2] = (last >>> 8) & 0xff;
    c[l + 3] = last & 0xff;
    if (last < this.minLast) this.minLast = last;
  }

  /** Adds a peer (not present); returns its position. */
  add(peerId: string, addr: string, last: number, seeder: boolean): number {
    if (this.n === this.cap) this.grow(this.n + 1);
    const p = seeder ? this.cap - ++this.nS : this.nL++;
    const o = this.at(p) + this.addrLen;
    for (let i = 0; i < PEER_ID_LENGTH; i++) this.chunk[o + i] = peerId.charCodeAt(i);
    this.writeFields(p, addr, last);
    if (this.index !== null) this.indexSet(p);
    else if (this.n > INDEX_AT) this.rebuildIndex();
    return p;
  }

  /** A re-announce: new address, last and role; returns the peer's position. */
  update(p: number, peerId: string, addr: string, last: number, seeder: boolean): number {
    if (this.isSeeder(p) === seeder) {
      this.writeFields(p, addr, last);
      return p;
    }
    this.remove(p);
    return this.add(peerId, addr, last, seeder);
  }

  /** Swap-remove: the end record of the range moves into position `p`. */
  remove(p: number): void {
    const seeder = this.isSeeder(p);
    const end = seeder ? this.cap - this.nS : this.nL - 1;
    if (this.index !== null) {
      this.indexReplace(p, TOMBSTONE);
      this.tombstones++;
    }
    if (end !== p) {
      const size = this.arenas.main.recordSize;
      this.chunk.copyWithin(this.at(p), this.at(end), this.at(end) + size);
      if (this.index !== null) this.indexReplace(end, p + 1);
    }
    if (seeder) this.nS--;
    else this.nL--;
    if (this.index !== null && this.tombstones * 4 > this.index.length) this.rebuildIndex();
  }

  /**
   * Removes every peer last heard from at or before `cutoff`, calling
   * `removed(last, seeder)` for each; a scan of the whole table, done only
   * when the oldest peer may have expired (at most once a second).
   */
  expire(cutoff: number, removed: (last: number, seeder: boolean) => void): number {
    if (this.minLast > cutoff) return 0;
    // The index is rebuilt once afterwards rather than updated at every removal.
    const indexed = this.index !== null;
    this.index = null;
    let n = 0;
    let min = NEVER;
    // Leechers from the end (a swapped-in record was already checked), seeders from their first.
    for (let p = this.nL - 1; p >= 0; p--) {
      const last = this.last(p);
      if (last <= cutoff) {
        this.remove(p);
        removed(last, false);
        n++;
      } else if (last < min) min = last;
    }
    for (let p = this.cap - this.nS; p < this.cap; p++) {
      const last = this.last(p);
      if (last <= cutoff) {
        this.remove(p);
        removed(last, true);
        n++;
      } else if (last < min) min = last;
    }
    this.minLast = min;
    if (indexed && this.n > INDEX_AT) this.rebuildIndex();
    return n;
  }

  /** Moves to a segment of at least `n` records (leechers to the front, seeders to the back). */
  private grow(n: number): void {
    const seg = this.arenas.main.alloc(n);
    const size = this.arenas.main.recordSize;
    const fromL = this.at(0);
    seg.chunk.set(this.chunk.subarray(fromL, fromL + this.nL * size), seg.base * size);
    const fromS = this.at(this.cap - this.nS);
    seg.chunk.set(this.chunk.subarray(fromS, fromS + this.nS * size), (seg.base + seg.cap - this.nS) * size);
    this.releaseSegment();
    this.chunk = seg.chunk;
    this.chunkId = seg.id;
    this.base = seg.base;
    this.cap = seg.cap;
    if (this.index !== null) this.rebuildIndex();
  }

  /** Gives the segment back (the swarm is gone); the table is empty again. */
  release(): void {
    this.releaseSegment();
    this.chunk = NO_RECORDS;
    this.chunkId = 0;
    this.base = 0;
    this.cap = 0;
    this.nL = 0;
    this.nS = 0;
    this.index = null;
    this.minLast = NEVER;
  }

  private releaseSegment(): void {
    if (this.cap > 0) this.arenas.main.release({ chunk: this.chunk, id: this.chunkId, base: this.base, cap: this.cap });
  }

  private rebuildIndex(): void {
    let size = 64;
    while (size < this.cap * 2) size *= 2;
    this.index = new Int32Array(size);
    this.tombstones = 0;
    for (let p = 0; p < this.nL; p++) this.indexSet(p);
    for (let p = this.cap - this.nS; p < this.cap; p++) this.indexSet(p);
  }

  private indexSet(p: number): void {
    const index = this.index!;
    const mask = index.length - 1;
    let i = hashBytes(this.chunk, this.at(p) + this.addrLen) & mask;
    while (index[i] !== EMPTY && index[i] !== TOMBSTONE) i = (i + 1) & mask;
    if (index[i] === TOMBSTONE) this.tombstones--;
    index[i] = p + 1;
  }

  /** Finds the entry pointing at position `p` (by its record's id) and sets it to `value`. */
  private indexReplace(p: number, value: number): void {
    const index = this.index!;
    const mask = index.length - 1;
    for (let i = hashBytes(this.chunk, this.at(p) + this.addrLen) & mask; ; i = (i + 1) & mask) {
      if (index[i] === p + 1) {
        index[i] = value;
        return;
      }
      if (index[i] === EMPTY) return;
    }
  }
}

/** What only some torrents have, kept apart from the torrent table: a peer-id index, IPv6 peers. */
export interface TorrentExtras {
  index: Int32Array | null;
  tombstones: number;
  v6: PeerTable | null;
}

/**
 * The IPv4 table of one torrent at a time, loaded from the torrent table's
 * columns and saved back: one object for every torrent (a torrent costs
 * typed-array slots, not an object of its own).
 */
export class TableView extends PeerTable {
  private readonly torrents: TorrentTable<TorrentExtras>;
  handle = -1;
  downloaded = 0;
  newest = -1;
  v6: PeerTable | null = null;
  /** The loaded torrent had extras (so saving without any must remove them). */
  private hadExtras = false;

  constructor(arenas4: FamilyArenas, torrents: TorrentTable<TorrentExtras>) {
    super(arenas4, 6);
    this.torrents = torrents;
  }

  /** Points the view at a torrent. */
  load(handle: number): this {
    const t = this.torrents;
    this.handle = handle;
    const c = t.columns(handle);
    const slot = handle & 0xffffff;
    this.downloaded = c[F_DOWNLOADED]![slot]!;
    this.newest = c[F_NEWEST]![slot]!;
    this.chunkId = c[F_CHUNK]![slot]!;
    this.base = c[F_BASE]![slot]!;
    this.cap = c[F_CAP]![slot]!;
    this.chunk = this.cap === 0 ? NO_RECORDS : this.arenas.main.chunkAt(this.chunkId);
    this.nL = c[F_NL]![slot]!;
    this.nS = c[F_NS]![slot]!;
    this.cursorL = c[F_CURSOR_L]![slot]!;
    this.cursorS = c[F_CURSOR_S]![slot]!;
    this.minLast = c[F_MIN_LAST]![slot]!;
    const x = t.extras(handle);
    this.hadExtras = x !== undefined;
    this.index = x?.index ?? null;
    this.tombstones = x?.tombstones ?? 0;
    this.v6 = x?.v6 ?? null;
    return this;
  }

  /** Writes the view back to the torrent's columns. */
  save(): void {
    const t = this.torrents;
    const h = this.handle;
    const c = t.columns(h);
    const slot = h & 0xffffff;
    c[F_DOWNLOADED]![slot] = this.downloaded;
    c[F_NEWEST]![slot] = this.newest;
    c[F_CHUNK]![slot] = this.chunkId;
    c[F_BASE]![slot] = this.base;
    c[F_CAP]![slot] = this.cap;
    c[F_NL]![slot] = this.nL;
    c[F_NS]![slot] = this.nS;
    c[F_CURSOR_L]![slot] = this.cursorL;
    c[F_CURSOR_S]![slot] = this.cursorS;
    c[F_MIN_LAST]![slot] = this.minLast;
    // Most torrents have no extras: no Map operation for them.
    if (this.index !== null || this.v6 !== null) t.setExtras(h, { index: this.index, tombstones: this.tombstones, v6: this.v6 });
    else if (this.hadExtras) t.setExtras(h, undefined);
  }

  get seeders(): number {
    return this.nS + (this.v6?.nS ?? 0);
  }

  get leechers(): number {
    return this.nL + (this.v6?.nL ?? 0);
  }

  get size(): number {
    return this.n + (this.v6?.n ?? 0);
  }

  /** The newest announce of any peer, or -1 (a scan; used when the newest one leaves). */
  newestLast(): number {
    let newest = -1;
    for (const t of [this, this.v6]) {
      if (t === null) continue;
      for (let p = 0; p < t.nL; p++) newest = Math.max(newest, t.last(p));
      for (let p = t.cap - t.nS; p < t.cap; p++) newest = Math.max(newest, t.last(p));
    }
    return newest;
  }
}
