/**
 * The in-memory swarm store (the default). Torrents are slots of a torrent
 * table (torrent-table.ts: typed-array columns, no object per torrent),
 * seen one at a time through a TableView; their peers are fixed-size
 * records in arena segments (swarm.ts, arena.ts): an announce finds the peer by id, updates its record in place,
 * and copies the addresses it hands out from contiguous ranges into one
 * reusable buffer. Expiry is checked on every announce and scrape (a scan
 * only when the swarm's oldest peer may have expired, at most once a second)
 * and swept in slices; live totals come from LiveCounters, so they never
 * include expired peers not yet purged. Keeps every rule of the store
 * contract (store.ts).
 */
import type { PeerSet } from '../protocol/peers.js';
import type { ScrapeFile } from '../protocol/types.js';
import { fitsLargest, insertLargest } from './largest.js';
import { LiveCounter } from './live-counter.js';
import { TOP_SWARMS, type AnnounceOutcome, type ExportedTorrent, type SavedTorrent, type Snapshottable, type StoreAnnounce, type StoreTotals, type SwarmStore, type SwarmSummary, type SweepResult } from './store.js';
import { familyArena, NEVER, PeerTable, V4_RECORD, V6_RECORD } from './swarm.js';
import { TableView, type TorrentExtras } from './table-view.js';
import { FIELDS, TorrentTable } from './torrent-table.js';

const F_DOWNLOADED = FIELDS.indexOf('downloaded');
import { PeerPicker } from './peer-picker.js';

const NO_PEERS: PeerSet = { count: 0, entrySize: 6, addrs: new Uint8Array(0), ids: new Uint8Array(0) };

export interface MemoryStoreOptions {
  /** Seconds after its last announce that a peer is purged. */
  peerTtl: number;
  /** Most torrents held (default: no limit). */
  maxTorrents?: number;
}

export class MemoryStore implements SwarmStore, Snapshottable {
  private readonly torrents = new TorrentTable<TorrentExtras>();
  private readonly peerTtl: number;
  private readonly maxTorrents: number;
  private readonly arena4 = familyArena(V4_RECORD);
  private readonly arena6 = familyArena(V6_RECORD);
  /** The torrent being worked on (one at a time). */
  private readonly view = new TableView(this.arena4, this.torrents);
  private readonly picker = new PeerPicker();
  /** Where the sweeper's pass is in the torrent table (-1: start a new pass). */
  private sweepCursor = -1;
  /** Live peers and seeders by last announce; live torrents by newest announce. */
  private readonly livePeers: LiveCounter;
  private readonly liveSeeders: LiveCounter;
  private readonly liveTorrents: LiveCounter;
  private topPending: SwarmSummary[] = [];
  private top: readonly SwarmSummary[] = [];
  /** The time of the expiry under way (read by onExpired). */
  private expiringAt = 0;
  private readonly onExpired = (last: number, seeder: boolean): void => {
    this.livePeers.remove(last, this.expiringAt);
    if (seeder) this.liveSeeders.remove(last, this.expiringAt);
  };

  constructor(options: MemoryStoreOptions) {
    this.peerTtl = options.peerTtl;
    this.maxTorrents = options.maxTorrents ?? Infinity;
    this.livePeers = new LiveCounter(options.peerTtl);
    this.liveSeeders = new LiveCounter(options.peerTtl);
    this.liveTorrents = new LiveCounter(options.peerTtl);
  }

  /** Bytes held by peer records (arena chunks), for the benchmark. */
  get arenaBytes(): number {
    return this.arena4.bytes + this.arena6.bytes;
  }

  /** Loads a torrent into the view, or creates it (empty); null when it does not exist and `create` is false. */
  private open(infoHash: string, create: boolean): TableView | null {
    const h = this.torrents.find(infoHash);
    if (h >= 0) return this.view.load(h);
    if (!create) return null;
    const v = this.view.load(this.torrents.insert(infoHash));
    v.minLast = NEVER;
    v.newest = -1;
    return v;
  }

  announce(input: StoreAnnounce, now: number): AnnounceOutcome | null {
    let swarm = this.open(input.infoHash, false);
    if (swarm === null) {
      if (input.event === 'stopped') return { complete: 0, incomplete: 0, downloaded: 0, peers: NO_PEERS };
      if (this.torrents.size >= this.maxTorrents) return null;
      swarm = this.open(input.infoHash, true)!;
    } else {
      this.expire(swarm, now);
    }
    const v4 = input.addr.length === 6;
    let table: PeerTable | null = v4 ? swarm : swarm.v6;
    let pos = table === null ? -1 : table.find(input.peerId);

    if (input.event === 'stopped') {
      if (pos >= 0) this.removePeer(swarm, table!, pos, now);
      const outcome = { complete: swarm.seeders, incomplete: swarm.leechers, downloaded: swarm.downloaded, peers: NO_PEERS };
      this.close(swarm);
      return outcome;
    }

    if (table === null) table = swarm.v6 = new PeerTable(this.arena6, 18);
    // A repeated `completed` from a peer already seeding is not a new download.
    if (input.event === 'completed' && (pos < 0 || !table.isSeeder(pos)) && swarm.downloaded < 0x7fffffff) swarm.downloaded++;
    if (pos < 0) {
      pos = table.add(input.peerId, input.addr, now, input.seeder);
    } else {
      const last = table.last(pos);
      this.livePeers.remove(last, now);
      if (table.isSeeder(pos)) this.liveSeeders.remove(last, now);
      pos = table.update(pos, input.peerId, input.addr, now, input.seeder);
    }
    // The swarm's newest announce is now: move it in the live-torrent count.
    if (swarm.newest >= 0) this.liveTorrents.remove(swarm.newest, now);
    swarm.newest = now;
    this.liveTorrents.add(now, now);
    this.livePeers.add(now, now);
    if (input.seeder) this.liveSeeders.add(now, now);

    const outcome = {
      complete: swarm.seeders,
      incomplete: swarm.leechers,
      downloaded: swarm.downloaded,
      // An IPv6 requester is handed IPv4 peers too: never its own IPv4 record (the same client, dual-stack).
      peers: input.numwant > 0 ? this.picker.pick(swarm, table, pos, input.numwant, input.peerIds === true, table === swarm ? null : swarm, table === swarm || swarm.n === 0 ? -1 : swarm.find(input.peerId)) : NO_PEERS,
    };
    swarm.save();
    return outcome;
  }

  scrape(infoHashes: readonly string[], now: number): ScrapeFile[] {
    return infoHashes.map((infoHash) => {
      const swarm = this.open(infoHash, false);
      if (swarm === null) return { infoHash, complete: 0, incomplete: 0, downloaded: 0 };
      // A scrape only reads: the view is written back only when expiry changed the swarm.
      const expired = this.expire(swarm, now);
      const file = { infoHash, complete: swarm.seeders, incomplete: swarm.leechers, downloaded: swarm.downloaded };
      if (expired > 0) this.close(swarm);
      return file;
    });
  }

  scrapeAll(now: number): ScrapeFile[] {
    const files: ScrapeFile[] = [];
    for (let at = 0; ; ) {
      const { handle, next } = this.torrents.scan(at);
      if (handle < 0) break;
      const swarm = this.view.load(handle);
      this.expire(swarm, now);
      const file = { infoHash: this.torrents.key(handle), complete: swarm.seeders, incomplete: swarm.leechers, downloaded: swarm.downloaded };
      // A removal shifts a later torrent into this slot: look at the same slot again.
      if (this.close(swarm)) at = handle;
      else {
        files.push(file);
        at = next;
      }
    }
    return files;
  }

  /**
   * One sweeper slice: visits torrents and purges their expired peers, about
   * `budget` units of work (a torrent visited is one unit, a scan of its
   * peers one unit per peer; a torrent is always scanned whole).
   */
  sweep(now: number, budget: number): SweepResult {
    let removed = 0;
    let work = 0;
    let passDone = false;
    if (budget >= Number.MAX_SAFE_INTEGER || this.sweepCursor < 0) {
      // A new pass (or a whole one on demand): start from the top.
      this.sweepCursor = 0;
      this.topPending = [];
    }
    const cutoff = now - this.peerTtl;
    while (work < budget) {
      const { handle, next } = this.torrents.scan(this.sweepCursor);
      if (handle < 0) {
        this.sweepCursor = -1; // the next slice starts a new pass
        this.top = this.topPending;
        this.topPending = [];
        passDone = true;
        break;
      }
      const swarm = this.view.load(handle);
      work++;
      if (swarm.minLast <= cutoff || (swarm.v6 !== null && swarm.v6.minLast <= cutoff)) work += swarm.size;
      const expired = this.expire(swarm, now);
      removed += expired;
      if (swarm.size > 0) this.considerTop(this.torrents.key(handle), swarm);
      // Written back only when expiry changed it; a removal shifts a later torrent into this slot: visit the same slot again.
      this.sweepCursor = expired > 0 && this.close(swarm) ? handle : next;
    }
    return { removed, work, passDone };
  }

  totals(now: number): StoreTotals {
    const peers = this.livePeers.count(now);
    const seeders = this.liveSeeders.count(now);
    return { torrents: this.liveTorrents.count(now), peers, seeders, leechers: peers - seeders };
  }

  topSwarms(): readonly SwarmSummary[] {
    return this.top;
  }

  dropTorrents(refuse: (infoHash: string) => boolean, now: number): number {
    let dropped = 0;
    for (let at = 0; ; ) {
      const { handle, next } = this.torrents.scan(at);
      if (handle < 0) break;
      if (!refuse(this.torrents.key(handle))) {
        at = next;
        continue;
      }
      const swarm = this.view.load(handle);
      for (const t of [swarm, swarm.v6]) {
        if (t === null) continue;
        for (let p = 0; p < t.nL; p++) this.livePeers.remove(t.last(p), now);
        for (let p = t.cap - t.nS; p < t.cap; p++) {
          this.livePeers.remove(t.last(p), now);
          this.liveSeeders.remove(t.last(p), now);
        }
      }
      if (swarm.newest >= 0) this.liveTorrents.remove(swarm.newest, now);
      swarm.release();
      swarm.v6?.release();
      swarm.v6 = null;
      this.torrents.remove(handle);
      dropped++;
      // Removal shifts a later torrent into this slot: look at the same slot again.
      at = handle;
    }
    if (dropped > 0) this.top = this.top.filter((t) => !refuse(t.infoHash));
    return dropped;
  }

  /**
   * Every torrent, for the state file (the view is loaded when a torrent is
   * visited). The caller pauses between torrents while traffic goes on: if
   * entries of the shard being read moved meanwhile, that shard is read
   * again from its start (a torrent written twice is loaded once), a few
   * times at most.
   */
  *exportTorrents(): Generator<ExportedTorrent> {
    const view = this.view;
    let shardStart = 0;
    let generation = this.torrents.generation(0);
    let rereads = 0;
    for (let at = 0; ; ) {
      const { handle, next } = this.torrents.scan(at);
      if (handle < 0) return;
      if (handle >>> 24 !== shardStart >>> 24) {
        shardStart = handle & ~0xffffff;
        generation = this.torrents.generation(handle);
        rereads = 0;
      }
      at = next;
      const infoHash = this.torrents.key(handle);
      const downloaded = this.torrents.get(handle, F_DOWNLOADED);
      yield {
        infoHash,
        downloaded,
        forEachPeer(visit) {
          view.load(handle);
          for (const t of [view, view.v6]) {
            if (t === null) continue;
            for (let p = 0; p < t.nL; p++) visit(t.chunk, t.idAt(p), t.addrAt(p), t.addrLen, t.last(p), false);
            for (let p = t.cap - t.nS; p < t.cap; p++) visit(t.chunk, t.idAt(p), t.addrAt(p), t.addrLen, t.last(p), true);
          }
        },
      };
      if (this.torrents.generation(handle) !== generation && rereads < 3) {
        rereads++;
        generation = this.torrents.generation(handle);
        at = shardStart;
      }
    }
  }

  /** Restores a saved torrent, leaving out peers past their TTL; returns the peers kept. */
  importTorrent(saved: SavedTorrent, now: number): number {
    const live = saved.peers.filter((p) => p.last > now - this.peerTtl && p.last <= now);
    // A torrent with no live peer is not kept, as at run time.
    if (live.length === 0 || this.torrents.find(saved.infoHash) >= 0) return 0;
    const swarm = this.open(saved.infoHash, true)!;
    swarm.downloaded = Math.min(saved.downloaded, 0x7fffffff);
    for (const s of live) {
      const v4 = s.addr.length === 6;
      let table: PeerTable | null = v4 ? swarm : swarm.v6;
      if (table === null) table = swarm.v6 = new PeerTable(this.arena6, 18);
      if (table.find(s.peerId) >= 0) continue;
      table.add(s.peerId, s.addr, s.last, s.seeder);
      this.livePeers.add(s.last, now);
      if (s.seeder) this.liveSeeders.add(s.last, now);
      if (s.last > swarm.newest) swarm.newest = s.last;
    }
    this.liveTorrents.add(swarm.newest, now);
    const kept = swarm.size;
    swarm.save();
    return kept;
  }

  /** Keeps the TOP_SWARMS largest swarms seen in this pass, largest first. */
  private considerTop(infoHash: string, swarm: TableView): void {
    const peers = swarm.size;
    if (!fitsLargest(this.topPending, TOP_SWARMS, peers)) return;
    insertLargest(this.topPending, TOP_SWARMS, { infoHash, peers, complete: swarm.seeders, incomplete: swarm.leechers, downloaded: swarm.downloaded });
  }

  /** Removes the swarm's peers not heard from within the TTL; returns how many. */
  private expire(swarm: TableView, now: number): number {
    const cutoff = now - this.peerTtl;
    this.expiringAt = now;
    let n = swarm.expire(cutoff, this.onExpired);
    if (swarm.v6 !== null) n += swarm.v6.expire(cutoff, this.onExpired);
    if (n > 0) this.newestChanged(swarm, now);
    return n;
  }

  private removePeer(swarm: TableView, table: PeerTable, pos: number, now: number): void {
    const last = table.last(pos);
    this.livePeers.remove(last, now);
    if (table.isSeeder(pos)) this.liveSeeders.remove(last, now);
    table.remove(pos);
    if (last === swarm.newest) this.newestChanged(swarm, now);
  }

  /** The swarm's newest announce may have left: move it in the live-torrent count. */
  private newestChanged(swarm: TableView, now: number): void {
    const newest = swarm.newestLast();
    if (newest === swarm.newest) return;
    if (swarm.newest >= 0) this.liveTorrents.remove(swarm.newest, now);
    if (newest >= 0) this.liveTorrents.add(newest, now);
    swarm.newest = newest;
  }

  /** Saves the view; an empty torrent is removed and its segments given back. Returns whether it was removed. */
  private close(swarm: TableView): boolean {
    if (swarm.size > 0) {
      swarm.save();
      return false;
    }
    swarm.release();
    swarm.v6?.release();
    swarm.v6 = null;
    this.torrents.remove(swarm.handle);
    return true;
  }
}
