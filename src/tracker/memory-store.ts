/**
 * In-memory swarm store.
 *
 * Per torrent, peers are in a Map by key and on an intrusive list in
 * last-announce order (a re-announce moves the peer to the tail), so expiring
 * a torrent walks only its expired head: O(expired + 1). The sweeper visits a
 * bounded slice of torrents per tick, so a tick's cost does not grow with the
 * total peer count. For random selection, peers are also in four arrays
 * (leechers/seeders × IPv4/IPv6) with swap-remove. Live totals come from
 * LiveCounters, so they never include expired peers the sweeper has not
 * reached yet.
 */
import type { PeerEntry } from '../protocol/peers.js';
import type { ScrapeFile } from '../protocol/types.js';
import { LiveCounter } from './live-counter.js';
import type { AnnounceOutcome, StoreAnnounce, StoreTotals, SwarmStore, SwarmSummary } from './store.js';

interface StoredPeer extends PeerEntry {
  addr: string;
  readonly peerId: string;
  readonly key: string;
  /** Last announce, in clock seconds. */
  last: number;
  /** Which of the torrent's lists holds it (LEECHERS4 … SEEDERS6). */
  list: number;
  /** Position in that list. */
  idx: number;
  /** Neighbours in last-announce order. */
  older: StoredPeer | null;
  newer: StoredPeer | null;
}

const LEECHERS4 = 0;
const SEEDERS4 = 1;
const LEECHERS6 = 2;
const SEEDERS6 = 3;

function isSeederList(list: number): boolean {
  return list === SEEDERS4 || list === SEEDERS6;
}

/** Lists a requester may receive, by its own list: seeders get only leechers. */
const CANDIDATES: readonly (readonly number[])[] = [
  [LEECHERS4, SEEDERS4], // IPv4 leecher
  [LEECHERS4], // IPv4 seeder
  [LEECHERS6, SEEDERS6, LEECHERS4, SEEDERS4], // IPv6 leecher: IPv4 peers go ::ffff:-mapped
  [LEECHERS6, LEECHERS4], // IPv6 seeder
];

class Torrent {
  readonly peers = new Map<string, StoredPeer>();
  readonly lists: StoredPeer[][] = [[], [], [], []];
  /** Oldest and newest announce. */
  oldest: StoredPeer | null = null;
  newest: StoredPeer | null = null;
  downloaded = 0;

  get complete(): number {
    return this.lists[SEEDERS4]!.length + this.lists[SEEDERS6]!.length;
  }
  get incomplete(): number {
    return this.lists[LEECHERS4]!.length + this.lists[LEECHERS6]!.length;
  }
}

function listFor(addr: string, seeder: boolean): number {
  return (addr.length === 6 ? 0 : 2) + (seeder ? 1 : 0);
}

const NO_PEERS: readonly PeerEntry[] = [];

export interface SavedPeer {
  peerId: string;
  addr: string;
  last: number;
  seeder: boolean;
}

export interface SavedTorrent {
  infoHash: string;
  downloaded: number;
  peers: SavedPeer[];
}
const TOP_SWARMS = 10;

export interface MemoryStoreOptions {
  /** Seconds after its last announce that a peer is purged. */
  peerTtl: number;
  /** Source of randomness in [0, 1), for peer selection. */
  random?: () => number;
  /** Most torrents held (default: no limit). */
  maxTorrents?: number;
}

export class MemoryStore implements SwarmStore {
  private readonly torrents = new Map<string, Torrent>();
  private readonly peerTtl: number;
  private readonly random: () => number;
  private readonly maxTorrents: number;
  private sweepCursor: Iterator<[string, Torrent]> | null = null;
  /** Live peers and seeders by last announce; live torrents by newest announce. */
  private readonly livePeers: LiveCounter;
  private readonly liveSeeders: LiveCounter;
  private readonly liveTorrents: LiveCounter;
  private topPending: SwarmSummary[] = [];
  private top: readonly SwarmSummary[] = [];

  constructor(options: MemoryStoreOptions) {
    this.peerTtl = options.peerTtl;
    this.random = options.random ?? Math.random;
    this.maxTorrents = options.maxTorrents ?? Infinity;
    this.livePeers = new LiveCounter(options.peerTtl);
    this.liveSeeders = new LiveCounter(options.peerTtl);
    this.liveTorrents = new LiveCounter(options.peerTtl);
  }

  announce(input: StoreAnnounce, now: number): AnnounceOutcome | null {
    let torrent = this.torrents.get(input.infoHash);
    if (torrent === undefined) {
      if (input.event === 'stopped') return { complete: 0, incomplete: 0, downloaded: 0, peers: NO_PEERS };
      if (this.torrents.size >= this.maxTorrents) return null;
      torrent = new Torrent();
      this.torrents.set(input.infoHash, torrent);
    } else {
      this.expire(torrent, now);
    }
    // A dual-stack client announcing over both families is two peers.
    const key = input.addr.length === 6 ? input.peerId : input.peerId + '6';
    let peer = torrent.peers.get(key);

    if (input.event === 'stopped') {
      if (peer !== undefined) this.remove(torrent, peer, now);
      const outcome = { complete: torrent.complete, incomplete: torrent.incomplete, downloaded: torrent.downloaded, peers: NO_PEERS };
      if (torrent.peers.size === 0) this.torrents.delete(input.infoHash);
      return outcome;
    }

    const list = listFor(input.addr, input.seeder);
    // A repeated `completed` from a peer already seeding is not a new download.
    if (input.event === 'completed' && (peer === undefined || !isSeederList(peer.list))) torrent.downloaded++;
    const newestBefore = torrent.newest === null ? null : torrent.newest.last;
    if (peer === undefined) {
      peer = { addr: input.addr, peerId: input.peerId, key, last: now, list, idx: 0, older: null, newer: null };
      torrent.peers.set(key, peer);
      this.addToList(torrent, peer, list);
    } else {
      this.livePeers.remove(peer.last, now);
      if (isSeederList(peer.list)) this.liveSeeders.remove(peer.last, now);
      this.unlink(torrent, peer);
      peer.addr = input.addr;
      peer.last = now;
      if (peer.list !== list) {
        this.removeFromList(torrent, peer);
        this.addToList(torrent, peer, list);
      }
    }
    this.append(torrent, peer);
    // The torrent's newest announce is now: move it in the live-torrent count.
    if (newestBefore !== null) this.liveTorrents.remove(newestBefore, now);
    this.liveTorrents.add(now, now);
    this.livePeers.add(now, now);
    if (input.seeder) this.liveSeeders.add(now, now);

    return {
      complete: torrent.complete,
      incomplete: torrent.incomplete,
      downloaded: torrent.downloaded,
      peers: input.numwant > 0 ? this.select(torrent, peer, input.numwant) : NO_PEERS,
    };
  }

  scrape(infoHashes: readonly string[], now: number): ScrapeFile[] {
    return infoHashes.map((infoHash) => {
      const torrent = this.torrents.get(infoHash);
      if (torrent === undefined) return { infoHash, complete: 0, incomplete: 0, downloaded: 0 };
      this.expire(torrent, now);
      const file = { infoHash, complete: torrent.complete, incomplete: torrent.incomplete, downloaded: torrent.downloaded };
      if (torrent.peers.size === 0) this.torrents.delete(infoHash);
      return file;
    });
  }

  scrapeAll(now: number): ScrapeFile[] {
    const files: ScrapeFile[] = [];
    for (const [infoHash, torrent] of this.torrents) {
      this.expire(torrent, now);
      if (torrent.peers.size === 0) {
        this.torrents.delete(infoHash);
        continue;
      }
      files.push({ infoHash, complete: torrent.complete, incomplete: torrent.incomplete, downloaded: torrent.downloaded });
    }
    return files;
  }

  sweep(now: number, budget: number): number {
    let removed = 0;
    if (budget >= this.torrents.size) {
      // A whole pass: start from the top.
      this.sweepCursor = null;
      this.topPending = [];
    }
    this.sweepCursor ??= this.torrents.entries();
    for (let visited = 0; visited < budget; visited++) {
      const next = this.sweepCursor.next();
      if (next.done === true) {
        this.sweepCursor = null; // the next tick starts a new pass
        this.top = this.topPending;
        this.topPending = [];
        break;
      }
      const [infoHash, torrent] = next.value;
      removed += this.expire(torrent, now);
      if (torrent.peers.size === 0) this.torrents.delete(infoHash);
      else this.considerTop(infoHash, torrent);
    }
    return removed;
  }

  totals(now: number): StoreTotals {
    const peers = this.livePeers.count(now);
    const seeders = this.liveSeeders.count(now);
    return { torrents: this.liveTorrents.count(now), peers, seeders, leechers: peers - seeders };
  }

  topSwarms(): readonly SwarmSummary[] {
    return this.top;
  }

  /** Every torrent with its peers, for the state file (peers oldest first). */
  *exportTorrents(): Generator<SavedTorrent> {
    for (const [infoHash, torrent] of this.torrents) {
      const peers: SavedPeer[] = [];
      for (let p = torrent.oldest; p !== null; p = p.newer) peers.push({ peerId: p.peerId, addr: p.addr, last: p.last, seeder: isSeederList(p.list) });
      yield { infoHash, downloaded: torrent.downloaded, peers };
    }
  }

  /** Restores a saved torrent, leaving out peers past their TTL; returns the peers kept. */
  importTorrent(saved: SavedTorrent, now: number): number {
    const live = saved.peers.filter((p) => p.last > now - this.peerTtl && p.last <= now).sort((a, b) => a.last - b.last);
    // A torrent with no live peer is not kept, as at run time.
    if (live.length === 0 || this.torrents.has(saved.infoHash)) return 0;
    const torrent = new Torrent();
    torrent.downloaded = saved.downloaded;
    this.torrents.set(saved.infoHash, torrent);
    for (const s of live) {
      const key = s.addr.length === 6 ? s.peerId : s.peerId + '6';
      if (torrent.peers.has(key)) continue;
      const peer: StoredPeer = { addr: s.addr, peerId: s.peerId, key, last: s.last, list: 0, idx: 0, older: null, newer: null };
      torrent.peers.set(key, peer);
      this.addToList(torrent, peer, listFor(s.addr, s.seeder));
      this.append(torrent, peer);
      this.livePeers.add(s.last, now);
      if (s.seeder) this.liveSeeders.add(s.last, now);
    }
    this.liveTorrents.add(torrent.newest!.last, now);
    return torrent.peers.size;
  }

  /** Keeps the TOP_SWARMS largest swarms seen in this pass, largest first. */
  private considerTop(infoHash: string, torrent: Torrent): void {
    const peers = torrent.peers.size;
    const top = this.topPending;
    if (top.length === TOP_SWARMS && top[TOP_SWARMS - 1]!.peers >= peers) return;
    const entry = { infoHash, peers, complete: torrent.complete, incomplete: torrent.incomplete, downloaded: torrent.downloaded };
    let i = top.length;
    while (i > 0 && top[i - 1]!.peers < peers) i--;
    top.splice(i, 0, entry);
    if (top.length > TOP_SWARMS) top.pop();
  }

  /** Removes the torrent's peers not heard from within the TTL (oldest first); returns how many. */
  private expire(torrent: Torrent, now: number): number {
    const cutoff = now - this.peerTtl;
    let removed = 0;
    while (torrent.oldest !== null && torrent.oldest.last <= cutoff) {
      this.remove(torrent, torrent.oldest, now);
      removed++;
    }
    return removed;
  }

  private remove(torrent: Torrent, peer: StoredPeer, now: number): void {
    const newestBefore = torrent.newest!;
    torrent.peers.delete(peer.key);
    this.unlink(torrent, peer);
    this.removeFromList(torrent, peer);
    this.livePeers.remove(peer.last, now);
    if (isSeederList(peer.list)) this.liveSeeders.remove(peer.last, now);
    if (torrent.newest !== newestBefore) {
      // The torrent's newest announce changed: move it in the live-torrent count.
      this.liveTorrents.remove(newestBefore.last, now);
      if (torrent.newest !== null) this.liveTorrents.add(torrent.newest.last, now);
    }
  }

  private append(torrent: Torrent, peer: StoredPeer): void {
    peer.older = torrent.newest;
    peer.newer = null;
    if (torrent.newest !== null) torrent.newest.newer = peer;
    else torrent.oldest = peer;
    torrent.newest = peer;
  }

  private unlink(torrent: Torrent, peer: StoredPeer): void {
    if (peer.older !== null) peer.older.newer = peer.newer;
    else torrent.oldest = peer.newer;
    if (peer.newer !== null) peer.newer.older = peer.older;
    else torrent.newest = peer.older;
    peer.older = null;
    peer.newer = null;
  }

  private addToList(torrent: Torrent, peer: StoredPeer, list: number): void {
    const peers = torrent.lists[list]!;
    peer.list = list;
    peer.idx = peers.length;
    peers.push(peer);
  }

  private removeFromList(torrent: Torrent, peer: StoredPeer): void {
    const peers = torrent.lists[peer.list]!;
    const last = peers.pop()!;
    if (last !== peer) {
      peers[peer.idx] = last;
      last.idx = peer.idx;
    }
  }

  /**
   * Up to `numwant` peers for `self`: a run of consecutive entries from a
   * random start in the candidate lists, wrapping around. O(numwant), no
   * shuffle of the whole swarm; never `self`.
   */
  private select(torrent: Torrent, self: StoredPeer, numwant: number): PeerEntry[] {
    const lists = CANDIDATES[self.list]!;
    let total = 0;
    for (const l of lists) total += torrent.lists[l]!.length;
    const selfIncluded = lists.includes(self.list) ? 1 : 0;
    const want = Math.min(numwant, total - selfIncluded);
    if (want <= 0) return [];
    const out: PeerEntry[] = new Array<PeerEntry>(want);
    let n = 0;
    // Locate the random start position inside the virtual concatenation.
    let li = 0;
    let offset = Math.floor(this.random() * total);
    while (offset >= torrent.lists[lists[li]!]!.length) offset -= torrent.lists[lists[li++]!]!.length;
    while (n < want) {
      const current = torrent.lists[lists[li]!]!;
      if (offset >= current.length) {
        li = (li + 1) % lists.length;
        offset = 0;
        continue;
      }
      const peer = current[offset++]!;
      if (peer !== self) out[n++] = peer;
    }
    return out;
  }
}
