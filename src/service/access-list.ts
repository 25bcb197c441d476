/**
 * --allow-list / --deny-list: which info_hashes the tracker serves. The file
 * has one info hash per line, 40 hex digits in either case, or 64 for a
 * BitTorrent v2 hash (which stands for its first 20 bytes: what v2 clients
 * announce); `#` starts a comment; blank lines are allowed. A bad line is
 * reported with its number and skipped.
 *
 * The hashes live in one open-addressing table of 20-byte keys in a typed
 * array (no object or string per hash): a million cost about 42 MiB, and a
 * lookup is one hash and a probe or two.
 */
import type { ErrorCode } from '../protocol/errors.js';
import { fnv20, fnv20At } from '../store/fnv.js';

const KEY = 20;

/** A set of 20-byte keys, looked up by latin1 string. */
export class HashSet20 {
  private readonly keys: Uint8Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  private count = 0;

  /** Room for `expected` keys at a load of at most 3/4. */
  constructor(expected: number) {
    let slots = 8;
    while (slots * 0.75 < expected) slots *= 2;
    this.keys = new Uint8Array(slots * KEY);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the table holds. */
  get bytes(): number {
    return this.keys.byteLength + this.used.byteLength;
  }

  private equalsAt(slot: number, bytes: Uint8Array, at: number): boolean {
    const k = this.keys;
    const o = slot * KEY;
    for (let i = 0; i < KEY; i++) if (k[o + i] !== bytes[at + i]) return false;
    return true;
  }

  /** Adds the 20 bytes at `at`; false if they were there already. */
  add(bytes: Uint8Array, at: number): boolean {
    if (this.count + 1 > (this.mask + 1) * 0.75) throw new RangeError('HashSet20 is full');
    for (let slot = fnv20At(bytes, at) & this.mask; ; slot = (slot + 1) & this.mask) {
      if (this.used[slot] === 0) {
        this.keys.set(bytes.subarray(at, at + KEY), slot * KEY);
        this.used[slot] = 1;
        this.count++;
        return true;
      }
      if (this.equalsAt(slot, bytes, at)) return false;
    }
  }

  has(key: string): boolean {
    if (key.length !== KEY) return false;
    const k = this.keys;
    for (let slot = fnv20(key) & this.mask; this.used[slot] !== 0; slot = (slot + 1) & this.mask) {
      const o = slot * KEY;
      let i = 0;
      while (i < KEY && k[o + i] === key.charCodeAt(i)) i++;
      if (i === KEY) return true;
    }
    return false;
  }
}

export interface BadLine {
  line: number;
  text: string;
}

export interface ParsedList {
  hashes: HashSet20;
  bad: BadLine[];
  /** Lines naming a hash already listed. */
  duplicates: number;
}

/** Bad lines kept for the log; the rest are only counted. */
export const MAX_BAD_LINES_KEPT = 20;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d;

/** Parses a list file's bytes. Never throws on content: bad lines are counted in `bad` (the first MAX_BAD_LINES_KEPT kept). */
export function parseAccessList(data: Uint8Array): ParsedList & { badLines: number } {
  let lines = 1;
  for (let i = 0; i < data.length; i++) if (data[i] === 0x0a) lines++;
  const hashes = new HashSet20(lines);
  const bad: BadLine[] = [];
  let badLines = 0;
  let duplicates = 0;
  const key = new Uint8Array(KEY);
  let lineNo = 0;
  for (let start = 0; start <= data.length; ) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    lineNo++;
    let a = start;
    let b = end;
    // '#': the rest of the line is a comment (searched within the line only: a whole-file search per line is quadratic).
    for (let i = a; i < b; i++) {
      if (data[i] === 0x23) {
        b = i;
        break;
      }
    }
    while (a < b && isSpace(data[a]!)) a++;
    while (b > a && isSpace(data[b - 1]!)) b--;
    if (b > a) {
      const n = b - a;
      let ok = n === 40 || n === 64;
      for (let i = 0; ok && i < n; i++) ok = hexValue(data[a + i]!) >= 0;
      if (ok) {
        for (let i = 0; i < KEY; i++) key[i] = (hexValue(data[a + 2 * i]!) << 4) | hexValue(data[a + 2 * i + 1]!);
        if (!hashes.add(key, 0)) duplicates++;
      } else {
        badLines++;
        if (bad.length < MAX_BAD_LINES_KEPT) bad.push({ line: lineNo, text: Buffer.from(data.subarray(a, Math.min(b, a + 80))).toString('latin1') });
      }
    }
    start = end + 1;
  }
  return { hashes, bad, badLines, duplicates };
}

export type AccessMode = 'allow' | 'deny';

/** The list in force: whether an info_hash is refused, and why. */
export class AccessList {
  readonly mode: AccessMode;
  private readonly hashes: HashSet20;

  constructor(mode: AccessMode, hashes: HashSet20) {
    this.mode = mode;
    this.hashes = hashes;
  }

  get size(): number {
    return this.hashes.size;
  }

  get bytes(): number {
    return this.hashes.bytes;
  }

  /** null: served; else the refusal's error code. */
  refuses(infoHash: string): ErrorCode | null {
    const listed = this.hashes.has(infoHash);
    if (this.mode === 'allow') return listed ? null : 'torrent_not_allowed';
    return listed ? 'torrent_denied' : null;
  }
}
