/**
 * In-memory swarm store.
 *
 * Per torrent, peers live in a Map whose insertion order is the order of
 * their last announce (a re-announce deletes and re-inserts), so expiring a
 * torrent walks only the expired head: O(expired + 1). The sweeper visits a
 * bounded slice of torrents per tick, so a tick's cost does not grow with the
 * total peer count. For random selection, peers are also in four arrays
 * (leechers/seeders × IPv4/IPv6) with swap-remove.
 */
import type { PeerEntry } from '../protocol/peers.js';
import type { ScrapeFile } from '../protocol/types.js';
import type { AnnounceOutcome, StoreAnnounce, StoreTotals, SwarmStore } from './store.js';

interface StoredPeer extends PeerEntry {
  addr: string;
  readonly peerId: string;
  /** Last announce, in clock seconds. */
  last: number;
  /** Which of the torrent's lists holds it (LEECHERS4 … SEEDERS6). */
  list: number;
  /** Position in that list. */
  idx: number;
}

const LEECHERS4 = 0;
const SEEDERS4 = 1;
const LEECHERS6 = 2;
const SEEDERS6 = 3;

/** Lists a requester may receive, by (family, seeder): seeders get only leechers. */
const CANDIDATES: readonly (readonly number[])[] = [
  [LEECHERS4, SEEDERS4], // IPv4 leecher
  [LEECHERS4], // IPv4 seeder
  [LEECHERS6, SEEDERS6, LEECHERS4, SEEDERS4], // IPv6 leecher: IPv4 peers go ::ffff:-mapped
  [LEECHERS6, LEECHERS4], // IPv6 seeder
];

class Torrent {
  readonly peers = new Map<string, StoredPeer>();
  readonly lists: StoredPeer[][] = [[], [], [], []];
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

export interface MemoryStoreOptions {
  /** Seconds after its last announce that a peer is purged. */
  peerTtl: number;
  /** Source of randomness in [0, 1), for peer selection. */
  random?: () => number;
}

export class MemoryStore implements SwarmStore {
  private readonly torrents = new Map<string, Torrent>();
  private readonly peerTtl: number;
  private readonly random: () => number;
  private sweepCursor: Iterator<[string, Torrent]> | null = null;
  private peerCount = 0;
  private seederCount = 0;

  constructor(options: MemoryStoreOptions) {
    this.peerTtl = options.peerTtl;
    this.random = options.random ?? Math.random;
  }

  announce(input: StoreAnnounce, now: number): AnnounceOutcome {
    let torrent = this.torrents.get(input.infoHash);
    if (torrent === undefined) {
      if (input.event === 'stopped') return { complete: 0, incomplete: 0, downloaded: 0, peers: NO_PEERS };
      torrent = new Torrent();
      this.torrents.set(input.infoHash, torrent);
    } else {
      this.expire(torrent, now);
    }
    // A dual-stack client announcing over both families is two peers.
    const key = input.addr.length === 6 ? input.peerId : input.peerId + '6';
    let peer = torrent.peers.get(key);

    if (input.event === 'stopped') {
      if (peer !== undefined) this.remove(torrent, key, peer);
      const outcome = { complete: torrent.complete, incomplete: torrent.incomplete, downloaded: torrent.downloaded, peers: NO_PEERS };
      if (torrent.peers.size === 0) this.torrents.delete(input.infoHash);
      return outcome;
    }

    const list = listFor(input.addr, input.seeder);
    // A repeated `completed` from a peer already seeding is not a new download.
    const newlyCompleted = input.event === 'completed' && (peer === undefined || peer.list === LEECHERS4 || peer.list === LEECHERS6);
    if (peer === undefined) {
      peer = { addr: input.addr, peerId: input.peerId, last: now, list, idx: 0 };
      this.addToList(torrent, peer, list);
      this.peerCount++;
      if (input.seeder) this.seederCount++;
    } else {
      torrent.peers.delete(key); // re-inserted below: Map order stays last-announce order
      peer.addr = input.addr;
      peer.last = now;
      if (peer.list !== list) {
        this.seederCount += input.seeder ? 1 : -1;
        this.removeFromList(torrent, peer);
        this.addToList(torrent, peer, list);
      }
    }
    torrent.peers.set(key, peer);
    if (newlyCompleted) torrent.downloaded++;

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
    const before = this.peerCount;
    if (budget >= this.torrents.size) this.sweepCursor = null; // a whole pass: start from the top
    this.sweepCursor ??= this.torrents.entries();
    for (let visited = 0; visited < budget; visited++) {
      const next = this.sweepCursor.next();
      if (next.done === true) {
        this.sweepCursor = null; // the next tick starts a new pass
        break;
      }
      const [infoHash, torrent] = next.value;
      this.expire(torrent, now);
      if (torrent.peers.size === 0) this.torrents.delete(infoHash);
    }
    return before - this.peerCount;
  }

  totals(): StoreTotals {
    return {
      torrents: this.torrents.size,
      peers: this.peerCount,
      seeders: this.seederCount,
      leechers: this.peerCount - this.seederCount,
    };
  }

  /** Removes the torrent's peers not heard from within the TTL (oldest first). */
  private expire(torrent: Torrent, now: number): void {
    const cutoff = now - this.peerTtl;
    for (const [key, peer] of torrent.peers) {
      if (peer.last > cutoff) break;
      this.remove(torrent, key, peer);
    }
  }

  private remove(torrent: Torrent, key: string, peer: StoredPeer): void {
    torrent.peers.delete(key);
    this.removeFromList(torrent, peer);
    this.peerCount--;
    if (peer.list === SEEDERS4 || peer.list === SEEDERS6) this.seederCount--;
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
