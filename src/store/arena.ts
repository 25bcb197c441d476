/**
 * Fixed-size records in a few large buffers instead of a typed array per
 * swarm (each of which costs ~200 bytes of bookkeeping before its first
 * peer). A segment is `cap` consecutive records at `base` in one chunk;
 * freed segments go on a free list by capacity class and are reused. Memory
 * stays with the arena once allocated (a mass expiry's space is reused by
 * the next swarms, not returned to the system).
 */

/** Capacities handed out: about x1.5 apart, so a segment is at least two thirds full once it has grown. */
const CLASSES: readonly number[] = (() => {
  const out = [1, 2, 3, 4, 6, 8];
  while (out[out.length - 1]! < 1 << 30) out.push(Math.ceil(out[out.length - 1]! * 1.5));
  return out;
})();

export const CHUNK_BYTES = 16 << 20;
/** The first chunk is small (a test, a quiet tracker); each next one doubles, up to CHUNK_BYTES. */
const FIRST_CHUNK_BYTES = 64 << 10;

export interface Segment {
  chunk: Uint8Array;
  /** First record of the segment in `chunk`. */
  base: number;
  cap: number;
}

/** The smallest capacity class holding `n` records. */
export function capacityFor(n: number): number {
  for (const c of CLASSES) if (c >= n) return c;
  throw new RangeError(`no capacity class for ${n} records`);
}

export class RecordArena {
  readonly recordSize: number;
  private chunk: Uint8Array = new Uint8Array(0);
  /** Next free record in `chunk`. */
  private next = 0;
  private chunkBytes = FIRST_CHUNK_BYTES;
  private readonly free = new Map<number, Segment[]>();
  /** Bytes of chunks allocated. */
  bytes = 0;

  constructor(recordSize: number) {
    this.recordSize = recordSize;
  }

  private newChunk(bytes: number): Uint8Array {
    this.bytes += bytes;
    return new Uint8Array(bytes);
  }

  /** A segment of at least `n` records (its capacity is a class size). */
  alloc(n: number): Segment {
    const cap = capacityFor(n);
    const reused = this.free.get(cap)?.pop();
    if (reused !== undefined) return reused;
    const records = Math.floor(this.chunk.length / this.recordSize);
    if (this.next + cap > records) {
      // A swarm bigger than a chunk gets a chunk of its own.
      const need = cap * this.recordSize;
      if (need > CHUNK_BYTES) return { chunk: this.newChunk(need), base: 0, cap };
      while (this.chunkBytes < need) this.chunkBytes *= 2;
      this.chunk = this.newChunk(this.chunkBytes);
      this.chunkBytes = Math.min(CHUNK_BYTES, this.chunkBytes * 2);
      this.next = 0;
    }
    const seg = { chunk: this.chunk, base: this.next, cap };
    this.next += cap;
    return seg;
  }

  release(seg: Segment): void {
    // A dedicated chunk is simply dropped (the GC frees it).
    if (seg.cap * this.recordSize > CHUNK_BYTES) {
      this.bytes -= seg.chunk.length;
      return;
    }
    let list = this.free.get(seg.cap);
    if (list === undefined) this.free.set(seg.cap, (list = []));
    list.push(seg);
  }
}
