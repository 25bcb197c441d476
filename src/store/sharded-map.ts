/**
 * A Map split in SHARDS by a few bytes of the key. V8 rehashes a whole Map
 * when it grows or shrinks past a power of two: with hundreds of thousands
 * of torrents one rehash stalls the loop for tens of ms (the sweeper
 * dropping expired swarms hit it). Shards make each rehash 64 times smaller,
 * and lift the 2^24-entry limit of one Map. Keys are raw info_hashes
 * (latin1, uniformly spread bytes).
 */
const SHARDS = 64;

export class ShardedMap<V> {
  private readonly shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());
  private count = 0;

  private shard(key: string): Map<string, V> {
    // Three bytes, not one: keys that share a first byte (chosen by a client) still spread.
    return this.shards[(key.charCodeAt(0) ^ key.charCodeAt(9) ^ key.charCodeAt(key.length - 1)) & (SHARDS - 1)]!;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.shard(key).get(key);
  }

  has(key: string): boolean {
    return this.shard(key).has(key);
  }

  set(key: string, value: V): void {
    const shard = this.shard(key);
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
  }

  delete(key: string): boolean {
    const deleted = this.shard(key).delete(key);
    if (deleted) this.count--;
    return deleted;
  }

  /** Every entry, shard by shard; tolerates deletions while iterating, as a Map does. */
  *entries(): Generator<[string, V]> {
    for (const shard of this.shards) yield* shard.entries();
  }

  [Symbol.iterator](): Generator<[string, V]> {
    return this.entries();
  }
}
