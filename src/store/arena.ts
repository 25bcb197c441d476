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

const EMPTY_CHUNK = new Uint8Array(0);

export interface Segment {
  chunk: Uint8Array;
  /** The chunk's id in its arena (chunkAt gives it back). */
  id: number;
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
  /** Bytes of one unit. */
  private readonly unitBytes: number;
  /** Units per chunk: 2^chunkOrder. */
  private readonly chunkOrder: number;
  private readonly chunkUnits: number;
  private readonly chunks: Uint8Array[] = [];
  /** Chunks of one big segment each (ids -1, -2, …); null once released. */
  private readonly big: (Uint8Array | null)[] = [];
  /**
   * Free blocks by order: a byte per block (1 = free), indexed by global unit
   * offset >> order, and a stack of candidates (entries whose block was taken
   * or merged since are skipped). No hash set: a set of 100,000 free blocks
   * rehashing as it grows or shrinks stalled the loop for tens of ms.
   */
  private isFree: Uint8Array[];
  private readonly stacks: number[][];
  /** Bytes of chunks allocated. */
  bytes = 0;

  constructor(recordSize: number, unit = 1) {
    this.recordSize = recordSize;
    this.unit = unit;
    this.unitBytes = recordSize * unit;
    this.chunkOrder = Math.floor(Math.log2(CHUNK_BYTES / this.unitBytes));
    this.chunkUnits = 2 ** this.chunkOrder;
    this.isFree = Array.from({ length: this.chunkOrder + 1 }, () => new Uint8Array(0));
    this.stacks = Array.from({ length: this.chunkOrder + 1 }, () => []);
  }

  private markFree(order: number, at: number): void {
    this.isFree[order]![at >> order] = 1;
    this.stacks[order]!.push(at);
  }

  private addChunk(): void {
    this.chunks.push(new Uint8Array(this.chunkUnits * this.unitBytes));
    this.bytes += this.chunkUnits * this.unitBytes;
    const units = this.chunks.length * this.chunkUnits;
    this.isFree = this.isFree.map((old, order) => {
      const grown = new Uint8Array(units >> order);
      grown.set(old);
      return grown;
    });
    this.markFree(this.chunkOrder, (this.chunks.length - 1) * this.chunkUnits);
  }

  /** A free block of `order`, or -1. */
  private take(order: number): number {
    const stack = this.stacks[order]!;
    const free = this.isFree[order]!;
    while (stack.length > 0) {
      const at = stack.pop()!;
      if (free[at >> order] === 1) {
        free[at >> order] = 0;
        return at;
      }
    }
    return -1;
  }

  /** A segment of at least `n` records (its capacity unit × a power of two). */
  alloc(n: number): Segment {
    const order = orderFor(Math.ceil(n / this.unit));
    const units = 1 << order;
    const cap = units * this.unit;
    // A swarm bigger than a chunk gets a chunk of its own.
    if (order > this.chunkOrder) {
      this.bytes += units * this.unitBytes;
      const chunk = new Uint8Array(units * this.unitBytes);
      let slot = this.big.indexOf(null);
      if (slot < 0) slot = this.big.push(null) - 1;
      this.big[slot] = chunk;
      return { chunk, id: -(slot + 1), base: 0, cap };
    }
    let o = order;
    let at = this.take(o);
    while (at < 0 && o < this.chunkOrder) at = this.take(++o);
    if (at < 0) {
      this.addChunk();
      o = this.chunkOrder;
      at = this.take(o);
    }
    // Split down to the order asked for; the upper halves stay free.
    while (o > order) {
      o--;
      this.markFree(o, at + (1 << o));
    }
    const chunk = Math.floor(at / this.chunkUnits);
    return { chunk: this.chunks[chunk]!, id: chunk, base: (at - chunk * this.chunkUnits) * this.unit, cap };
  }

  /** The chunk of a segment's id. */
  chunkAt(id: number): Uint8Array {
    return (id >= 0 ? this.chunks[id] : this.big[-id - 1]) ?? EMPTY_CHUNK;
  }

  release(seg: Segment): void {
    let order = orderFor(seg.cap / this.unit);
    if (order > this.chunkOrder) {
      this.bytes -= seg.chunk.length; // a dedicated chunk: the GC frees it
      this.big[-seg.id - 1] = null;
      return;
    }
    let at = seg.id * this.chunkUnits + seg.base / this.unit;
    // Merge with the free buddy, as far as it goes.
    while (order < this.chunkOrder) {
      const buddy = at ^ (1 << order);
      const free = this.isFree[order]!;
      if (free[buddy >> order] !== 1) break;
      free[buddy >> order] = 0; // its stack entry is now stale
      at = Math.min(at, buddy);
      order++;
    }
    this.markFree(order, at);
  }
}
