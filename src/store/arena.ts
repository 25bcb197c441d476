/**
 * Fixed-size records in a few large buffers instead of a typed array per
 * swarm (each of which costs ~200 bytes of bookkeeping before its first
 * peer). A segment is 2^k consecutive records in one chunk, handed out by a
 * buddy allocator: a freed segment merges with its free buddy into one twice
 * the size, so the space that growing swarms leave behind (every swarm
 * grows through 1, 2, 4, 8 … records) serves the next ones instead of
 * piling up as unusable small pieces. Chunks stay with the arena once
 * allocated (a mass expiry's space is reused, not returned to the system).
 */

/** About this many bytes per chunk (a power of two of units). */
const CHUNK_BYTES = 16 << 20;

export interface Segment {
  chunk: Uint8Array;
  /** First record of the segment in `chunk`. */
  base: number;
  cap: number;
}

/** The order (log2 of the capacity) of the smallest segment holding `n` records. */
export function orderFor(n: number): number {
  let order = 0;
  while (1 << order < n) order++;
  return order;
}

export class RecordArena {
  readonly recordSize: number;
  /** Records per allocation unit: capacities are unit × 2^k (a unit of 3 gives 3, 6, 12 …). */
  readonly unit: number;
  private readonly chunks: Uint8Array[] = [];
  /** Units per chunk: 2^chunkOrder. */
  private readonly chunkOrder: number;
  private readonly chunkUnits: number;
  /** Free segments by order, as global unit offsets (chunk × chunkUnits + base / unit). */
  private readonly free: Set<number>[];
  /** Bytes of chunks allocated. */
  bytes = 0;

  /** Bytes of one unit. */
  private readonly unitBytes: number;

  constructor(recordSize: number, unit = 1) {
    this.recordSize = recordSize;
    this.unit = unit;
    this.unitBytes = recordSize * unit;
    this.chunkOrder = Math.floor(Math.log2(CHUNK_BYTES / this.unitBytes));
    this.chunkUnits = 2 ** this.chunkOrder;
    this.free = Array.from({ length: this.chunkOrder + 1 }, () => new Set<number>());
  }

  /** A segment of at least `n` records (its capacity unit × a power of two). */
  alloc(n: number): Segment {
    const order = orderFor(Math.ceil(n / this.unit));
    const units = 1 << order;
    const cap = units * this.unit;
    // A swarm bigger than a chunk gets a chunk of its own.
    if (order > this.chunkOrder) {
      this.bytes += units * this.unitBytes;
      return { chunk: new Uint8Array(units * this.unitBytes), base: 0, cap };
    }
    let o = order;
    while (o <= this.chunkOrder && this.free[o]!.size === 0) o++;
    if (o > this.chunkOrder) {
      this.chunks.push(new Uint8Array(this.chunkUnits * this.unitBytes));
      this.bytes += this.chunkUnits * this.unitBytes;
      o = this.chunkOrder;
      this.free[o]!.add((this.chunks.length - 1) * this.chunkUnits);
    }
    const set = this.free[o]!;
    const at: number = set.values().next().value!;
    set.delete(at);
    // Split down to the order asked for; the upper halves stay free.
    while (o > order) {
      o--;
      this.free[o]!.add(at + (1 << o));
    }
    const chunk = Math.floor(at / this.chunkUnits);
    return { chunk: this.chunks[chunk]!, base: (at - chunk * this.chunkUnits) * this.unit, cap };
  }

  release(seg: Segment): void {
    let order = orderFor(seg.cap / this.unit);
    if (order > this.chunkOrder) {
      this.bytes -= seg.chunk.length; // a dedicated chunk: the GC frees it
      return;
    }
    const chunk = this.chunks.indexOf(seg.chunk);
    let at = chunk * this.chunkUnits + seg.base / this.unit;
    // Merge with the free buddy, as far as it goes.
    while (order < this.chunkOrder) {
      const buddy = at ^ (1 << order);
      if (!this.free[order]!.delete(buddy)) break;
      at = Math.min(at, buddy);
      order++;
    }
    this.free[order]!.add(at);
  }
}
