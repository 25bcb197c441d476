/**
 * The memory store's torrents without an object per torrent: open-addressing
 * hash tables (linear probing, backward-shift deletion) whose keys (raw
 * info_hashes) and per-torrent fields live in typed arrays. A torrent is a
 * handle (shard and slot); it stays valid until that shard grows or loses
 * an entry, so callers look a torrent up, use it, and let go within one
 * operation. Split into SHARDS so that a growth rehashes 1/64 of the table
 * at a time. The hash is keyed with a random seed: a client cannot choose
 * info_hashes that all collide.
 */
import { randomInt } from 'node:crypto';
import { fnv20, fnv20At } from './fnv.js';

const SHARDS = 64;
const INITIAL_SLOTS = 64;
const KEY = 20;

/** Fields of a torrent, each an Int32Array column. */
export const FIELDS = ['downloaded', 'newest', 'chunkId', 'base', 'cap', 'nL', 'nS', 'cursorL', 'cursorS', 'minLast'] as const;
export type Field = (typeof FIELDS)[number];

class Shard<X> {
  mask: number;
  size = 0;
  /** Bumped whenever entries move (a removal's backward shift, a growth). */
  generation = 0;
  keys: Uint8Array;
  used: Uint8Array;
  cols: Int32Array[];
  /** Slot → what only some torrents have. */
  extras = new Map<number, X>();

  constructor(slots: number) {
    this.mask = slots - 1;
    this.keys = new Uint8Array(slots * KEY);
    this.used = new Uint8Array(slots);
    this.cols = FIELDS.map(() => new Int32Array(slots));
  }
}

export class TorrentTable<X> {
  private readonly shards: Shard<X>[] = Array.from({ length: SHARDS }, () => new Shard<X>(INITIAL_SLOTS));
  private readonly seed = randomInt(0, 2 ** 31);
  private count = 0;

  get size(): number {
    return this.count;
  }

  private hash(key: string): number {
    const h = fnv20(key, this.seed);
    return (h ^ (h >>> 15)) >>> 0;
  }

  private keyEquals(s: Shard<X>, slot: number, key: string): boolean {
    const o = slot * KEY;
    for (let i = 0; i < KEY; i++) if (s.keys[o + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** The torrent's handle, or -1. */
  find(key: string): number {
    const h = this.hash(key);
    const shardNo = h & (SHARDS - 1);
    const s = this.shards[shardNo]!;
    for (let slot = (h >>> 6) & s.mask; s.used[slot] === 1; slot = (slot + 1) & s.mask) {
      if (this.keyEquals(s, slot, key)) return ((shardNo << 24) | slot);
    }
    return -1;
  }

  /** Adds a torrent (not present) with every field 0; returns its handle. */
  insert(key: string): number {
    const h = this.hash(key);
    const shardNo = h & (SHARDS - 1);
    let s = this.shards[shardNo]!;
    if ((s.size + 1) * 4 > (s.mask + 1) * 3) s = this.grow(shardNo);
    let slot = (h >>> 6) & s.mask;
    while (s.used[slot] === 1) slot = (slot + 1) & s.mask;
    s.used[slot] = 1;
    for (let i = 0; i < KEY; i++) s.keys[slot * KEY + i] = key.charCodeAt(i);
    for (const col of s.cols) col[slot] = 0;
    s.size++;
    this.count++;
    return ((shardNo << 24) | slot);
  }

  /** Removes a torrent; handles into its shard are no longer valid. */
  remove(handle: number): void {
    const s = this.shards[handle >>> 24]!;
    let hole = handle & 0xffffff;
    s.used[hole] = 0;
    s.extras.delete(hole);
    s.size--;
    s.generation++;
    this.count--;
    // Backward shift: later entries of the probe run move up into the hole.
    for (let slot = (hole + 1) & s.mask; s.used[slot] === 1; slot = (slot + 1) & s.mask) {
      const home = (this.hashAt(s, slot) >>> 6) & s.mask;
      // Moves if its home is not in (hole, slot] (cyclically).
      const inRange = hole <= slot ? home > hole && home <= slot : home > hole || home <= slot;
      if (inRange) continue;
      this.moveSlot(s, slot, hole);
      hole = slot;
    }
  }

  private hashAt(s: Shard<X>, slot: number): number {
    const h = fnv20At(s.keys, slot * KEY, this.seed);
    return (h ^ (h >>> 15)) >>> 0;
  }

  private moveSlot(s: Shard<X>, from: number, to: number): void {
    s.keys.copyWithin(to * KEY, from * KEY, from * KEY + KEY);
    for (const col of s.cols) col[to] = col[from]!;
    s.used[to] = 1;
    s.used[from] = 0;
    const x = s.extras.get(from);
    if (x !== undefined) {
      s.extras.delete(from);
      s.extras.set(to, x);
    }
  }

  private grow(shardNo: number): Shard<X> {
    const old = this.shards[shardNo]!;
    const s = new Shard<X>((old.mask + 1) * 2);
    for (let slot = 0; slot <= old.mask; slot++) {
      if (old.used[slot] !== 1) continue;
      let to = (this.hashAt(old, slot) >>> 6) & s.mask;
      while (s.used[to] === 1) to = (to + 1) & s.mask;
      s.used[to] = 1;
      s.keys.set(old.keys.subarray(slot * KEY, slot * KEY + KEY), to * KEY);
      old.cols.forEach((col, c) => (s.cols[c]![to] = col[slot]!));
      const x = old.extras.get(slot);
      if (x !== undefined) s.extras.set(to, x);
      s.size++;
    }
    s.generation = old.generation + 1;
    this.shards[shardNo] = s;
    return s;
  }

  /** The columns of a torrent's shard and its slot in them (no allocation): for reading many fields at once. */
  columns(handle: number): Int32Array[] {
    return this.shards[handle >>> 24]!.cols;
  }

  get(handle: number, field: number): number {
    return this.shards[handle >>> 24]!.cols[field]![handle & 0xffffff]!;
  }

  set(handle: number, field: number, value: number): void {
    this.shards[handle >>> 24]!.cols[field]![handle & 0xffffff] = value;
  }

  extras(handle: number): X | undefined {
    return this.shards[handle >>> 24]!.extras.get(handle & 0xffffff);
  }

  setExtras(handle: number, x: X | undefined): void {
    const s = this.shards[handle >>> 24]!;
    if (x === undefined) s.extras.delete(handle & 0xffffff);
    else s.extras.set(handle & 0xffffff, x);
  }

  /** The raw info_hash of a torrent, latin1. */
  key(handle: number): string {
    const s = this.shards[handle >>> 24]!;
    const o = (handle & 0xffffff) * KEY;
    return Buffer.from(s.keys.buffer, s.keys.byteOffset + o, KEY).toString('latin1');
  }

  /** Changes whenever entries of the shard of `position` move: a scan that pauses can tell its positions went stale. */
  generation(position: number): number {
    return this.shards[position >>> 24]?.generation ?? 0;
  }

  /**
   * The handle at or after `position` (a cursor over every slot of every
   * shard), or -1 past the end; `next` is where to continue.
   */
  scan(position: number): { handle: number; next: number } {
    let shardNo = position >>> 24;
    let slot = position & 0xffffff;
    for (; shardNo < SHARDS; shardNo++, slot = 0) {
      const s = this.shards[shardNo]!;
      for (; slot <= s.mask; slot++) {
        if (s.used[slot] === 1) return { handle: ((shardNo << 24) | slot), next: ((shardNo << 24) | slot) + 1 };
      }
    }
    return { handle: -1, next: -1 };
  }
}
