/**
 * Tracker-wide bookkeeping of the Redis store, gathered between flushes.
 * A swarm script reports exactly what changed (a peer's old role and second
 * of last announce, its new role; the swarm's size, or that it emptied);
 * the changes are increments and "newest wins" updates, so applying them
 * later, batched, from several trackers in any order gives exact totals.
 * Written apart from the swarm scripts: one write of many changes instead
 * of one per announce.
 */
import type { RedisArg } from './redis-connection.js';

export const SEEDER = 1;
export const LEECHER = 2;

export class PendingTotals {
  /** second × 2 (+1 for seeders) → change in the number of peers whose last announce was that second (a number: no string per announce). */
  private buckets = new Map<number, number>();
  /** Torrent (raw info_hash) → newest announce (or, with size 0, the time it emptied). */
  private scores = new Map<string, number>();
  /** Torrent → live peers after its latest announce; 0: it emptied. */
  private sizes = new Map<string, number>();

  get empty(): boolean {
    return this.buckets.size === 0 && this.scores.size === 0;
  }

  /** A peer of `role` last seen at `second` is gone (−1) or one more is there (+1). */
  peer(role: number, second: number, delta: number): void {
    const key = second * 2 + (role === SEEDER ? 1 : 0);
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + delta);
  }

  /** The torrent was announced to at `now` and has `size` live peers. */
  announced(infoHash: string, now: number, size: number): void {
    const prev = this.scores.get(infoHash);
    // Newest wins, unless what is pending is a removal: this announce came after it.
    this.scores.set(infoHash, prev === undefined || this.sizes.get(infoHash) === 0 ? now : Math.max(prev, now));
    this.sizes.set(infoHash, size);
  }

  /** Only the torrent's size changed (a peer stopped; others remain). */
  resized(infoHash: string, size: number): void {
    if (!this.scores.has(infoHash)) this.scores.set(infoHash, 0);
    this.sizes.set(infoHash, size);
  }

  /** The torrent emptied at `now`: forget it unless another tracker saw an announce after that. */
  emptied(infoHash: string, now: number): void {
    this.scores.set(infoHash, now);
    this.sizes.set(infoHash, 0);
  }

  /** The flush script's arguments; the batch is handed over and cleared. */
  take(): PendingBatch {
    const batch = new PendingBatch(this.buckets, this.scores, this.sizes);
    this.buckets = new Map();
    this.scores = new Map();
    this.sizes = new Map();
    return batch;
  }

  /** A batch that could not be written goes back, under anything newer. */
  restore(batch: PendingBatch): void {
    for (const [k, d] of batch.buckets) this.buckets.set(k, (this.buckets.get(k) ?? 0) + d);
    for (const [ih, score] of batch.scores) {
      if (this.scores.has(ih)) continue;
      this.scores.set(ih, score);
      this.sizes.set(ih, batch.sizes.get(ih) ?? 0);
    }
  }
}

export class PendingBatch {
  readonly buckets: ReadonlyMap<number, number>;
  readonly scores: ReadonlyMap<string, number>;
  readonly sizes: ReadonlyMap<string, number>;
  constructor(buckets: Map<number, number>, scores: Map<string, number>, sizes: Map<string, number>) {
    this.buckets = buckets;
    this.scores = scores;
    this.sizes = sizes;
  }

  /** ARGV of FLUSH_LUA. */
  args(): RedisArg[] {
    const out: RedisArg[] = [];
    let nb = 0;
    for (const [k, d] of this.buckets) {
      if (d === 0) continue;
      // The `live` hash's field: `s<second>` / `l<second>`.
      out.push(`${k % 2 === 1 ? 's' : 'l'}${Math.floor(k / 2)}`, d);
      nb++;
    }
    out.unshift(nb);
    for (const [ih, score] of this.scores) out.push(Buffer.from(ih, 'latin1'), score, this.sizes.get(ih) ?? 0);
    return out;
  }
}
