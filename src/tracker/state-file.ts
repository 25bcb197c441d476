/**
 * Swarms across restarts. The state file is JSON Lines: a header, one line
 * per torrent, and an end line with the count, so a truncated file is told
 * from a complete one and every good line before damage is still used.
 * Saving writes a temporary file, fsyncs it, renames it over the old one and
 * fsyncs the folder: a crash mid-write leaves the previous snapshot whole.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { MemoryStore, SavedTorrent } from './memory-store.js';

const FORMAT = 'wildkat-state';
const VERSION = 1;
const CHUNK = 1 << 20;

interface Header {
  format: string;
  version: number;
  saved_at: number;
}

interface TorrentLine {
  h: string;
  d: number;
  /** [peer_id hex, compact address hex, last announce (s), seeder 0/1] */
  p: [string, string, number, number][];
}

function encodeTorrent(t: SavedTorrent): string {
  const line: TorrentLine = {
    h: Buffer.from(t.infoHash, 'latin1').toString('hex'),
    d: t.downloaded,
    p: t.peers.map((p) => [Buffer.from(p.peerId, 'latin1').toString('hex'), Buffer.from(p.addr, 'latin1').toString('hex'), p.last, p.seeder ? 1 : 0]),
  };
  return JSON.stringify(line);
}

function hexBytes(value: unknown, sizes: readonly number[]): string | null {
  if (typeof value !== 'string' || !/^([0-9a-f]{2})*$/.test(value) || !sizes.includes(value.length / 2)) return null;
  return Buffer.from(value, 'hex').toString('latin1');
}

function decodeTorrent(text: string): SavedTorrent | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const line = v as Partial<TorrentLine>;
  const infoHash = hexBytes(line.h, [20]);
  if (infoHash === null || !Number.isSafeInteger(line.d) || (line.d as number) < 0 || !Array.isArray(line.p)) return null;
  const peers: SavedTorrent['peers'] = [];
  for (const entry of line.p) {
    if (!Array.isArray(entry) || entry.length !== 4) return null;
    const peerId = hexBytes(entry[0], [20]);
    const addr = hexBytes(entry[1], [6, 18]);
    const last = entry[2];
    if (peerId === null || addr === null || !Number.isSafeInteger(last)) return null;
    peers.push({ peerId, addr, last: last as number, seeder: entry[3] === 1 });
  }
  return { infoHash, downloaded: line.d as number, peers };
}

export interface SaveResult {
  torrents: number;
  bytes: number;
}

/** Writes a snapshot atomically; yields to the event loop between 1 MiB chunks. */
export async function saveState(path: string, store: MemoryStore, now: number): Promise<SaveResult> {
  const tmp = `${path}.tmp-${process.pid}`;
  const file = await open(tmp, 'w', 0o600);
  let torrents = 0;
  let bytes = 0;
  try {
    let chunk = JSON.stringify({ format: FORMAT, version: VERSION, saved_at: now } satisfies Header) + '\n';
    for (const t of store.exportTorrents()) {
      chunk += encodeTorrent(t) + '\n';
      torrents++;
      if (chunk.length >= CHUNK) {
        bytes += (await file.write(chunk)).bytesWritten;
        chunk = '';
      }
    }
    chunk += JSON.stringify({ end: true, torrents }) + '\n';
    bytes += (await file.write(chunk)).bytesWritten;
    await file.sync();
  } finally {
    await file.close();
  }
  renameSync(tmp, path);
  // The rename itself must reach the disk too.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return { torrents, bytes };
}

/** Removes temporary files that a crash during a save left behind. */
export function removeStaleTemporaries(path: string): number {
  const prefix = `${basename(path)}.tmp-`;
  let removed = 0;
  for (const name of readdirSync(dirname(path))) {
    if (name.startsWith(prefix) && name !== `${prefix}${process.pid}`) {
      rmSync(`${dirname(path)}/${name}`, { force: true });
      removed++;
    }
  }
  return removed;
}

export interface LoadResult {
  /** No state file yet. */
  missing: boolean;
  torrents: number;
  peers: number;
  /** Lines that could not be read (0 for a sound file). */
  badLines: number;
  /** The file was truncated (no end line) or its header was wrong. */
  damaged: boolean;
  /** Where a damaged file was moved, so the next save does not overwrite it. */
  setAsideTo: string | null;
}

/** Loads a snapshot into the store; a damaged file is used as far as it is good, then set aside. */
export function loadState(path: string, store: MemoryStore, now: number): LoadResult {
  const result: LoadResult = { missing: false, torrents: 0, peers: 0, badLines: 0, damaged: false, setAsideTo: null };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...result, missing: true };
    throw err;
  }
  const lines = text.split('\n');
  let header: Partial<Header> | null = null;
  try {
    header = JSON.parse(lines[0] ?? '') as Partial<Header>;
  } catch {
    header = null;
  }
  if (header === null || header.format !== FORMAT || header.version !== VERSION) result.damaged = true;
  let ended = false;
  let counted = -1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if (line.startsWith('{"end":')) {
      ended = true;
      try {
        counted = (JSON.parse(line) as { torrents: number }).torrents;
      } catch {
        counted = -1;
      }
      continue;
    }
    const torrent = decodeTorrent(line);
    if (torrent === null) {
      result.badLines++;
      continue;
    }
    result.torrents++;
    result.peers += store.importTorrent(torrent, now);
  }
  if (!ended || counted !== result.torrents + result.badLines) result.damaged = true;
  if (result.damaged || result.badLines > 0) {
    result.setAsideTo = `${dirname(path)}/${basename(path)}.damaged-${now}`;
    renameSync(path, result.setAsideTo);
  }
  return result;
}
