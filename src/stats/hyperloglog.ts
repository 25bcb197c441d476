/**
 * HyperLogLog distinct-count estimate in fixed memory: 2^12 one-byte
 * registers (4 KiB) whatever the number of addresses, about 1.6 % standard
 * error, exact-ish for small counts through linear counting. A flood of
 * distinct source addresses cannot grow it.
 */
const P = 12;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

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

  /** Adds an item by its 32-bit hash. */
  addHash(h: number): void {
    const index = h >>> (32 - P);
    const rest = (h << P) >>> 0;
    // Position of the first 1 bit in the remaining 20 bits (1-based); 21 if none.
    const rank = rest === 0 ? 32 - P + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  estimate(): number {
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
  }

  /** The registers, to merge with another process's counter (same seed). */
  exportRegisters(): string {
    return Buffer.from(this.registers).toString('base64');
  }

  /** Takes the larger of each register: the union of what both counted. */
  mergeRegisters(base64: string): void {
    const other = Buffer.from(base64, 'base64');
    if (other.length !== M) return;
    for (let i = 0; i < M; i++) if (other[i]! > this.registers[i]!) this.registers[i] = other[i]!;
  }
}
