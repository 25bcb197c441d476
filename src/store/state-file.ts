/**
 * Swarms across restarts. The state file is JSON Lines: a header, one line
 * per torrent, and an end line with the count, so a truncated file is told
 * from a complete one and every good line before damage is still used.
 *
 * Saving encodes straight into one reusable buffer (no string or object per
 * peer) and writes it out every SAVE_FLUSH bytes, so a save of millions of
 * peers neither doubles the heap nor stalls the event loop; it writes a
 * temporary file, fsyncs it, renames it over the old one and fsyncs the
 * folder: a crash mid-write leaves the previous snapshot whole, and a failed
 * save removes its temporary file. Loading reads the file as a stream, line
 * by line, so its size is bounded by the disk, not by V8's longest string.
 */
import { createReadStream, readdirSync, renameSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PEER_ID_LENGTH } from '../protocol/peers.js';
import type { ExportedTorrent, SavedPeer, SavedTorrent, Snapshottable } from './store.js';

const FORMAT = 'wildkat-state';
const VERSION = 1;
/** Bytes encoded before they are written out (and the event loop gets a turn). */
const SAVE_FLUSH = 256 * 1024;
/** Encoding time before the event loop gets a turn. */
const SAVE_SLICE_MS = 5;
/** The longest line read back: a swarm of about 2.5M peers; longer lines are skipped as damaged. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

interface Header {
  format: string;
  version: number;
  saved_at: number;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** A growable output buffer that writes hex and decimal without making strings. */
class Encoder {
  buf = Buffer.allocUnsafe(SAVE_FLUSH * 2);
  length = 0;

  ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  ascii(text: string): void {
    this.ensure(text.length);
    this.length += this.buf.write(text, this.length, 'latin1');
  }

  /** Bytes [from, to) as lowercase hex. */
  hexBytes(src: Uint8Array, from: number, to: number): void {
    this.ensure((to - from) * 2);
    const b = this.buf;
    let o = this.length;
    for (let i = from; i < to; i++) {
      const c = src[i]!;
      b[o++] = HEX[c >> 4]!;
      b[o++] = HEX[c & 15]!;
    }
    this.length = o;
  }

  /** Chars [from, to) of a latin1 string as lowercase hex. */
  hex(latin1: string, from: number, to: number): void {
    this.ensure((to - from) * 2);
    const b = this.buf;
    let o = this.length;
    for (let i = from; i < to; i++) {
      const c = latin1.charCodeAt(i);
      b[o++] = HEX[c >> 4]!;
      b[o++] = HEX[c & 15]!;
    }
    this.length = o;
  }

  /** A non-negative safe integer in decimal. */
  uint(n: number): void {
    this.ensure(16);
    if (n === 0) {
      this.buf[this.length++] = 0x30;
      return;
    }
    let digits = 0;
    for (let v = n; v >= 1; v = Math.floor(v / 10)) digits++;
    let o = this.length + digits;
    this.length = o;
    for (let v = n; v >= 1; v = Math.floor(v / 10)) this.buf[--o] = 0x30 + (v % 10);
  }
}

/** `{"h":"<hex>","d":N,"p":[["<peer id hex>","<address hex>",last,0|1],…]}\n` */
function encodeTorrent(out: Encoder, t: ExportedTorrent): void {
  out.ascii('{"h":"');
  out.hex(t.infoHash, 0, t.infoHash.length);
  out.ascii('","d":');
  out.uint(t.downloaded);
  out.ascii(',"p":[');
  let first = true;
  t.forEachPeer((bytes, idAt, addrAt, addrLen, last, seeder) => {
    out.ascii(first ? '["' : ',["');
    first = false;
    out.hexBytes(bytes, idAt, idAt + PEER_ID_LENGTH);
    out.ascii('","');
    out.hexBytes(bytes, addrAt, addrAt + addrLen);
    out.ascii('",');
    out.uint(last);
    out.ascii(seeder ? ',1]' : ',0]');
  });
  out.ascii(']}\n');
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const hexScratch = Buffer.alloc(20);

/** Lowercase hex of one of the given byte sizes → a flat latin1 string (no rope kept in the store), or null. */
function hexBytes(value: unknown, sizes: readonly number[]): string | null {
  if (typeof value !== 'string' || (value.length & 1) !== 0 || !sizes.includes(value.length >> 1)) return null;
  for (let i = 0; i < value.length; i += 2) {
    const hi = hexDigit(value.charCodeAt(i));
    const lo = hexDigit(value.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return null;
    hexScratch[i >> 1] = (hi << 4) | lo;
  }
  return hexScratch.toString('latin1', 0, value.length >> 1);
}

/** A torrent line; peers already past `cutoff` are left out unchecked (they would not be kept). */
function decodeTorrent(text: string, cutoff: number): SavedTorrent | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const line = v as { h?: unknown; d?: unknown; p?: unknown };
  const infoHash = hexBytes(line.h, [20]);
  if (infoHash === null || !Number.isSafeInteger(line.d) || (line.d as number) < 0 || !Array.isArray(line.p)) return null;
  const peers: SavedPeer[] = [];
  for (const entry of line.p as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 4 || !Number.isSafeInteger(entry[2])) return null;
    const last = entry[2] as number;
    if (last <= cutoff) continue;
    const peerId = hexBytes(entry[0], [20]);
    const addr = hexBytes(entry[1], [6, 18]);
    if (peerId === null || addr === null) return null;
    peers.push({ peerId, addr, last, seeder: entry[3] === 1 });
  }
  return { infoHash, downloaded: line.d as number, peers };
}

export interface SaveResult {
  torrents: number;
  bytes: number;
}

/** Writes a snapshot atomically; on failure the temporary file is removed and the previous snapshot stays. */
export async function saveState(path: string, store: Snapshottable, now: number): Promise<SaveResult> {
  const tmp = `${path}.tmp-${process.pid}`;
  let torrents = 0;
  let bytes = 0;
  try {
    const file = await open(tmp, 'w', 0o600);
    try {
      const out = new Encoder();
      const flush = async (): Promise<void> => {
        let at = 0;
        while (at < out.length) at += (await file.write(out.buf, at, out.length - at)).bytesWritten;
        bytes += out.length;
        out.length = 0;
      };
      out.ascii(JSON.stringify({ format: FORMAT, version: VERSION, saved_at: now } satisfies Header) + '\n');
      let since = performance.now();
      for (const t of store.exportTorrents()) {
        encodeTorrent(out, t);
        torrents++;
        // By size, or by time while the code is still cold (the first few thousand peers).
        if (out.length >= SAVE_FLUSH || performance.now() - since >= SAVE_SLICE_MS) {
          await flush();
          since = performance.now();
        }
      }
      out.ascii(JSON.stringify({ end: true, torrents }) + '\n');
      await flush();
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // A temporary file left behind keeps a full disk full, and may stop the next start.
    await rm(tmp, { force: true });
    throw err;
  }
  // The rename itself must reach the disk too (asynchronously: an fsync can take tens of ms).
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return { torrents, bytes };
}

export interface StaleTemporaries {
  removed: number;
  /** Temporary files that could not be removed, with why. */
  failed: { path: string; code: string }[];
}

/** Removes temporary files that a crash during a save left behind; what cannot be removed is reported, not fatal. */
export function removeStaleTemporaries(path: string): StaleTemporaries {
  const prefix = `${basename(path)}.tmp-`;
  const result: StaleTemporaries = { removed: 0, failed: [] };
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix) || name === `${prefix}${process.pid}`) continue;
    const stale = join(dirname(path), name);
    try {
      rmSync(stale, { force: true });
      result.removed++;
    } catch (err) {
      result.failed.push({ path: stale, code: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
  }
  return result;
}

export interface LoadResult {
  /** No state file yet. */
  missing: boolean;
  torrents: number;
  peers: number;
  /** Lines that could not be read (0 for a sound file). */
  badLines: number;
  /** The file was truncated (no end line), unreadable, or its header was wrong. */
  damaged: boolean;
  /** Why the file could not be read at all, if so. */
  unreadable: string | null;
  /** Where a damaged file was moved, so the next save does not overwrite it. */
  setAsideTo: string | null;
}

/** Calls `onLine` with each line of the file (without its newline); lines over `maxLine` bytes are reported as null. */
async function readLines(path: string, maxLine: number, onLine: (line: string | null) => void): Promise<void> {
  let carry: Buffer[] = [];
  let carried = 0;
  let skipping = false;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (skipping) skipping = false;
      else if (carried + nl - start > maxLine) onLine(null);
      else if (carried === 0) onLine(chunk.toString('latin1', start, nl));
      else onLine(Buffer.concat([...carry, chunk.subarray(start, nl)]).toString('latin1'));
      carry = [];
      carried = 0;
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      if (carried + chunk.length - start > maxLine) {
        onLine(null);
        skipping = true;
        carry = [];
        carried = 0;
      } else {
        carry.push(chunk.subarray(start));
        carried += chunk.length - start;
      }
    }
  }
  if (carried > 0) onLine(Buffer.concat(carry).toString('latin1'));
}

/**
 * Loads a snapshot into the store, line by line. A damaged file is used as
 * far as it is good, then set aside; one that cannot be read at all is set
 * aside too, and the start goes on with empty swarms. Throws only when a
 * damaged file cannot be moved out of the way (the next save would destroy it).
 */
export async function loadState(path: string, store: Snapshottable, now: number, peerTtl: number, maxLine = MAX_LINE_BYTES): Promise<LoadResult> {
  const result: LoadResult = { missing: false, torrents: 0, peers: 0, badLines: 0, damaged: false, unreadable: null, setAsideTo: null };
  const cutoff = now - peerTtl;
  let lineNo = 0;
  let ended = false;
  let counted = -1;
  try {
    await readLines(path, maxLine, (line) => {
      lineNo++;
      if (lineNo === 1) {
        let header: Partial<Header> | null = null;
        try {
          header = line === null ? null : (JSON.parse(line) as Partial<Header>);
        } catch {
          header = null;
        }
        if (header === null || header.format !== FORMAT || header.version !== VERSION) result.damaged = true;
        return;
      }
      if (line === '') return;
      if (line !== null && line.startsWith('{"end":')) {
        ended = true;
        try {
          counted = (JSON.parse(line) as { torrents: number }).torrents;
        } catch {
          counted = -1;
        }
        return;
      }
      const torrent = line === null ? null : decodeTorrent(line, cutoff);
      if (torrent === null) {
        result.badLines++;
        return;
      }
      result.torrents++;
      result.peers += store.importTorrent(torrent, now);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && lineNo === 0) return { ...result, missing: true };
    result.unreadable = code ?? (err as Error).message;
    result.damaged = true;
  }
  if (!ended || counted !== result.torrents + result.badLines) result.damaged = true;
  if (result.damaged || result.badLines > 0) {
    result.setAsideTo = `${path}.damaged-${now}`;
    renameSync(path, result.setAsideTo);
  }
  return result;
}
