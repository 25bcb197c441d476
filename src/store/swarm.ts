/**
 * One address family of one swarm, in an arena segment laid out by field:
 * the compact addresses (6 or 18 bytes each), then the peer ids (20), then
 * the last-announce times (4, big-endian seconds). Leechers fill each field
 * from the front, seeders from the back, so each role's addresses are one
 * contiguous range and a reply copies them from a rotating position in one
 * or two pieces.
 * Removal is swap-remove (the range's end record moves into the hole). A
 * table of up to INDEX_AT peers is searched by scanning its ids; a larger
 * one keeps an open-addressing index (peer id hash → position).
 */
import { PEER_ID_LENGTH } from '../protocol/peers.js';
import { RecordArena } from './arena.js';
import { fnv20, fnv20At } from './fnv.js';


/** Past this many peers a table keeps an index instead of scanning. */
const INDEX_AT = 32;
const EMPTY = 0;
const TOMBSTONE = -1;
/** Later than any announce (the largest small integer): "no peer". */
export const NEVER = 0x7fffffff;
export const NO_RECORDS = new Uint8Array(0);

/** Bytes per peer in a segment: address, peer id, last announce. */
export const V4_RECORD = 6 + 20 + 4;
export const V6_RECORD = 18 + 20 + 4;

/** A family's arena: segments of 3, 6, 12, … places (a unit of 3: a swarm of 5 wastes one place, not three). */
export function familyArena(recordSize: number): RecordArena {
  return new RecordArena(recordSize, 3);
}

export class PeerTable {
  readonly arena: RecordArena;
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

  constructor(arena: RecordArena, addrLen: number) {
    this.arena = arena;
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

  /*
   * A segment is laid out by field, not by record: every address, then every
   * peer id, then every last-announce time. A run of positions is then one
   * contiguous range of addresses, which a reply copies in one go.
   */
  /** Byte offset of position `p` of field 0 (addresses), 1 (peer ids) or 2 (times) in a segment at `base` of `cap` places. */
  private fieldAt(base: number, cap: number, field: 0 | 1 | 2, p: number): number {
    const start = base * this.arena.recordSize;
    if (field === 0) return start + p * this.addrLen;
    if (field === 1) return start + cap * this.addrLen + p * PEER_ID_LENGTH;
    return start + cap * (this.addrLen + PEER_ID_LENGTH) + p * 4;
  }

  /** Byte offset of the address at position `p`. */
  addrAt(p: number): number {
    return this.fieldAt(this.base, this.cap, 0, p);
  }

  /** Byte offset of the peer id at position `p`. */
  idAt(p: number): number {
    return this.fieldAt(this.base, this.cap, 1, p);
  }

  private lastAt(p: number): number {
    return this.fieldAt(this.base, this.cap, 2, p);
  }

  last(p: number): number {
    const o = this.lastAt(p);
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
      for (let i = fnv20(peerId) & mask; ; i = (i + 1) & mask) {
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
    const o = this.idAt(p);
    const c = this.chunk;
    for (let i = 0; i < PEER_ID_LENGTH; i++) if (c[o + i] !== peerId.charCodeAt(i)) return false;
    return true;
  }

  /** Writes address (latin1), last and role at position `p`; the id is written by `add`. */
  private writeFields(p: number, addr: string, last: number): void {
    const o = this.addrAt(p);
    const c = this.chunk;
    for (let i = 0; i < this.addrLen; i++) c[o + i] = addr.charCodeAt(i);
    const l = this.lastAt(p);
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
    const o = this.idAt(p);
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
      const c = this.chunk;
      c.copyWithin(this.addrAt(p), this.addrAt(end), this.addrAt(end) + this.addrLen);
      c.copyWithin(this.idAt(p), this.idAt(end), this.idAt(end) + PEER_ID_LENGTH);
      c.copyWithin(this.lastAt(p), this.lastAt(end), this.lastAt(end) + 4);
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
    const seg = this.arena.alloc(n);
    // Each field's leechers to the front and seeders to the back of the new segment.
    const sizes = [this.addrLen, PEER_ID_LENGTH, 4];
    for (const field of [0, 1, 2] as const) {
      const size = sizes[field]!;
      const fromL = this.fieldAt(this.base, this.cap, field, 0);
      seg.chunk.set(this.chunk.subarray(fromL, fromL + this.nL * size), this.fieldAt(seg.base, seg.cap, field, 0));
      const fromS = this.fieldAt(this.base, this.cap, field, this.cap - this.nS);
      seg.chunk.set(this.chunk.subarray(fromS, fromS + this.nS * size), this.fieldAt(seg.base, seg.cap, field, seg.cap - this.nS));
    }
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
    if (this.cap > 0) this.arena.release({ chunk: this.chunk, id: this.chunkId, base: this.base, cap: this.cap });
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
    let i = fnv20At(this.chunk, this.idAt(p)) & mask;
    while (index[i] !== EMPTY && index[i] !== TOMBSTONE) i = (i + 1) & mask;
    if (index[i] === TOMBSTONE) this.tombstones--;
    index[i] = p + 1;
  }

  /** Finds the entry pointing at position `p` (by its record's id) and sets it to `value`. */
  private indexReplace(p: number, value: number): void {
    const index = this.index!;
    const mask = index.length - 1;
    for (let i = fnv20At(this.chunk, this.idAt(p)) & mask; ; i = (i + 1) & mask) {
      if (index[i] === p + 1) {
        index[i] = value;
        return;
      }
      if (index[i] === EMPTY) return;
    }
  }
}
