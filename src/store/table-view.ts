/**
 * A torrent's IPv4 table loaded from the torrent table's columns, and what
 * few torrents need besides (extras).
 */
import type { RecordArena } from './arena.js';
import { NO_RECORDS, PeerTable } from './swarm.js';
import { FIELDS, type TorrentTable } from './torrent-table.js';

const F_DOWNLOADED = FIELDS.indexOf('downloaded');
const F_NEWEST = FIELDS.indexOf('newest');
const F_CHUNK = FIELDS.indexOf('chunkId');
const F_BASE = FIELDS.indexOf('base');
const F_CAP = FIELDS.indexOf('cap');
const F_NL = FIELDS.indexOf('nL');
const F_NS = FIELDS.indexOf('nS');
const F_CURSOR_L = FIELDS.indexOf('cursorL');
const F_CURSOR_S = FIELDS.indexOf('cursorS');
const F_MIN_LAST = FIELDS.indexOf('minLast');

/** What only some torrents have, kept apart from the torrent table: a peer-id index, IPv6 peers. */
export interface TorrentExtras {
  index: Int32Array | null;
  tombstones: number;
  v6: PeerTable | null;
}

/**
 * The IPv4 table of one torrent at a time, loaded from the torrent table's
 * columns and saved back: one object for every torrent (a torrent costs
 * typed-array slots, not an object of its own).
 */
export class TableView extends PeerTable {
  private readonly torrents: TorrentTable<TorrentExtras>;
  handle = -1;
  downloaded = 0;
  newest = -1;
  v6: PeerTable | null = null;
  /** The loaded torrent's extras, updated in place on save (no object per announce). */
  private extras: TorrentExtras | undefined = undefined;

  constructor(arena4: RecordArena, torrents: TorrentTable<TorrentExtras>) {
    super(arena4, 6);
    this.torrents = torrents;
  }

  /** Points the view at a torrent. */
  load(handle: number): this {
    const t = this.torrents;
    this.handle = handle;
    const c = t.columns(handle);
    const slot = handle & 0xffffff;
    this.downloaded = c[F_DOWNLOADED]![slot]!;
    this.newest = c[F_NEWEST]![slot]!;
    this.chunkId = c[F_CHUNK]![slot]!;
    this.base = c[F_BASE]![slot]!;
    this.cap = c[F_CAP]![slot]!;
    this.chunk = this.cap === 0 ? NO_RECORDS : this.arena.chunkAt(this.chunkId);
    this.nL = c[F_NL]![slot]!;
    this.nS = c[F_NS]![slot]!;
    this.cursorL = c[F_CURSOR_L]![slot]!;
    this.cursorS = c[F_CURSOR_S]![slot]!;
    this.minLast = c[F_MIN_LAST]![slot]!;
    const x = t.extras(handle);
    this.extras = x;
    this.index = x?.index ?? null;
    this.tombstones = x?.tombstones ?? 0;
    this.v6 = x?.v6 ?? null;
    return this;
  }

  /** Writes the view back to the torrent's columns. */
  save(): void {
    const t = this.torrents;
    const h = this.handle;
    const c = t.columns(h);
    const slot = h & 0xffffff;
    c[F_DOWNLOADED]![slot] = this.downloaded;
    c[F_NEWEST]![slot] = this.newest;
    c[F_CHUNK]![slot] = this.chunkId;
    c[F_BASE]![slot] = this.base;
    c[F_CAP]![slot] = this.cap;
    c[F_NL]![slot] = this.nL;
    c[F_NS]![slot] = this.nS;
    c[F_CURSOR_L]![slot] = this.cursorL;
    c[F_CURSOR_S]![slot] = this.cursorS;
    c[F_MIN_LAST]![slot] = this.minLast;
    // Most torrents have no extras: no Map operation for them; those that do keep one object.
    const x = this.extras;
    if (this.index !== null || this.v6 !== null) {
      if (x === undefined) t.setExtras(h, (this.extras = { index: this.index, tombstones: this.tombstones, v6: this.v6 }));
      else {
        x.index = this.index;
        x.tombstones = this.tombstones;
        x.v6 = this.v6;
      }
    } else if (x !== undefined) {
      t.setExtras(h, undefined);
      this.extras = undefined;
    }
  }

  get seeders(): number {
    return this.nS + (this.v6?.nS ?? 0);
  }

  get leechers(): number {
    return this.nL + (this.v6?.nL ?? 0);
  }

  get size(): number {
    return this.n + (this.v6?.n ?? 0);
  }

  /** The newest announce of any peer, or -1 (a scan; used when the newest one leaves). */
  newestLast(): number {
    let newest = -1;
    for (const t of [this, this.v6]) {
      if (t === null) continue;
      for (let p = 0; p < t.nL; p++) newest = Math.max(newest, t.last(p));
      for (let p = t.cap - t.nS; p < t.cap; p++) newest = Math.max(newest, t.last(p));
    }
    return newest;
  }
}
