/**
 * HyperLogLog distinct-count estimate in fixed memory: 2^12 one-byte
 * registers (4 KiB) whatever the number of addresses, about 1.6 % standard
 * error. Up to EXACT_LIMIT addresses it also keeps their 32-bit hashes and
 * counts those: with registers alone, two of a handful of addresses share a
 * register often enough (4 addresses: 1 in 700) that a small tracker's page
 * would show 3 for 4. A flood of distinct source addresses cannot grow it
 * past the limit.
 */
const P = 12;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);
export const EXACT_LIMIT = 1024;

/** FNV-1a over a latin1 string, then murmur3's finalizer to spread the bits. */
export function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HyperLogLog {
  private readonly registers = new Uint8Array(M);
  /** The distinct hashes while there are at most EXACT_LIMIT; null after. */
  private exact: Set<number> | null = new Set();

  /** Adds an item by its 32-bit hash. */
  addHash(h: number): void {
    if (this.exact !== null) {
      this.exact.add(h);
      if (this.exact.size > EXACT_LIMIT) this.exact = null;
    }
    const index = h >>> (32 - P);
    const rest = (h << P) >>> 0;
    // Position of the first 1 bit in the remaining 20 bits (1-based); 21 if none.
    const rank = rest === 0 ? 32 - P + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  estimate(): number {
    if (this.exact !== null) return this.exact.size;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < M; i++) {
      const r = this.registers[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = (ALPHA * M * M) / sum;
    if (raw <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
    return Math.round(raw);
  }

  clear(): void {
    this.registers.fill(0);
    this.exact = new Set();
  }

  /**
   * The counter, to merge with another process's (same seed): the registers,
   * then the exact hashes (4 bytes each, little-endian) while there are any
   * to keep; the first byte says which.
   */
  exportRegisters(): string {
    const exact = this.exact;
    const out = Buffer.alloc(1 + M + (exact === null ? 0 : 4 * exact.size));
    out[0] = exact === null ? 0 : 1;
    out.set(this.registers, 1);
    if (exact !== null) {
      let at = 1 + M;
      for (const h of exact) at = out.writeUInt32LE(h, at);
    }
    return out.toString('base64');
  }

  /** The union of what both counted: the larger of each register, and the exact hashes while both have them. */
  mergeRegisters(base64: string): void {
    const other = Buffer.from(base64, 'base64');
    if (other.length < 1 + M || (other.length - 1 - M) % 4 !== 0) return;
    for (let i = 0; i < M; i++) if (other[1 + i]! > this.registers[i]!) this.registers[i] = other[1 + i]!;
    if (this.exact === null) return;
    if (other[0] !== 1) {
      this.exact = null;
      return;
    }
    for (let at = 1 + M; at < other.length; at += 4) this.exact.add(other.readUInt32LE(at));
    if (this.exact.size > EXACT_LIMIT) this.exact = null;
  }
}
