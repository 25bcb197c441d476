/**
 * The in-memory swarm store (the default): torrents in one Map, each a
 * Torrent of swarm.ts. Expiry is lazy on every announce and scrape (bounded)
 * and finished by the sweeper in slices; live totals come from
 * LiveCounters, so they never include expired peers not yet purged. Keeps
 * every rule of the store contract (store.ts).
 */
import { peerEntryId, type PeerEntry } from '../protocol/peers.js';
import type { ScrapeFile } from '../protocol/types.js';
import { LiveCounter } from './live-counter.js';
import type { AnnounceOutcome, ExportedTorrent, SavedTorrent, Snapshottable, StoreAnnounce, StoreTotals, SwarmStore, SwarmSummary, SweepResult } from './store.js';
import { NO_PEERS, sameAddr, take, Torrent, V4_ID_LENGTH, type StoredPeer } from './swarm.js';

/** Expired peers removed by one announce or scrape; the sweeper does the rest. */
const LAZY_EXPIRY = 256;
const TOP_SWARMS = 10;

export interface MemoryStoreOptions {
  /** Seconds after its last announce that a peer is purged. */
  peerTtl: number;
  /** Most torrents held (default: no limit). */
  maxTorrents?: number;
}

export class MemoryStore implements SwarmStore, Snapshottable {
  private readonly torrents = new Map<string, Torrent>();
  private readonly peerTtl: number;
  private readonly maxTorrents: number;
  private sweepCursor: Iterator<[string, Torrent]> | null = null;
  /** A torrent the sweeper has not finished with (a large mass expiry). */
  private sweepHeld: [string, Torrent] | null = null;
  /** Live peers and seeders by last announce; live torrents by newest announce. */
  private readonly livePeers: LiveCounter;
  private readonly liveSeeders: LiveCounter;
  private readonly liveTorrents: LiveCounter;
  private topPending: SwarmSummary[] = [];
  private top: readonly SwarmSummary[] = [];

  constructor(options: MemoryStoreOptions) {
    this.peerTtl = options.peerTtl;
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
      this.expire(torrent, now, LAZY_EXPIRY);
    }
    const v4 = input.addr.length === 6;
    let peer = torrent.find(input.peerId, v4);

    if (input.event === 'stopped') {
      if (peer !== undefined) this.remove(torrent, peer, now);
      const outcome = { complete: torrent.seeders.size, incomplete: torrent.leechers.size, downloaded: torrent.downloaded, peers: NO_PEERS };
      if (torrent.size === 0) this.torrents.delete(input.infoHash);
      return outcome;
    }

    // A repeated `completed` from a peer already seeding is not a new download.
    if (input.event === 'completed' && (peer === undefined || !peer.seeder)) torrent.downloaded++;
    const newestBefore = torrent.newestLast();
    if (peer === undefined) {
      peer = { id: peerEntryId(input.peerId, input.addr), last: now, seeder: input.seeder, older: null, newer: null };
      torrent.add(peer, v4 ? input.peerId : input.peerId + '6');
    } else {
      this.livePeers.remove(peer.last, now);
      if (peer.seeder) this.liveSeeders.remove(peer.last, now);
      if (!sameAddr(peer.id, input.addr)) peer.id = peerEntryId(input.peerId, input.addr);
      peer.last = now;
      torrent.touch(peer, input.seeder);
    }
    // The torrent's newest announce is now: move it in the live-torrent count.
    if (newestBefore >= 0) this.liveTorrents.remove(newestBefore, now);
    this.liveTorrents.add(now, now);
    this.livePeers.add(now, now);
    if (input.seeder) this.liveSeeders.add(now, now);

    return {
      complete: torrent.seeders.size,
      incomplete: torrent.leechers.size,
      downloaded: torrent.downloaded,
      peers: input.numwant > 0 ? this.select(torrent, peer, input.numwant, now) : NO_PEERS,
    };
  }

  scrape(infoHashes: readonly string[], now: number): ScrapeFile[] {
    return infoHashes.map((infoHash) => {
      const torrent = this.torrents.get(infoHash);
      if (torrent === undefined) return { infoHash, complete: 0, incomplete: 0, downloaded: 0 };
      this.expire(torrent, now, LAZY_EXPIRY);
      const file = { infoHash, complete: torrent.seeders.size, incomplete: torrent.leechers.size, downloaded: torrent.downloaded };
      if (torrent.size === 0) this.torrents.delete(infoHash);
      return file;
    });
  }

  scrapeAll(now: number): ScrapeFile[] {
    const files: ScrapeFile[] = [];
    for (const [infoHash, torrent] of this.torrents) {
      this.expire(torrent, now, Infinity);
      if (torrent.size === 0) {
        this.torrents.delete(infoHash);
        continue;
      }
      files.push({ infoHash, complete: torrent.seeders.size, incomplete: torrent.leechers.size, downloaded: torrent.downloaded });
    }
    return files;
  }

  /**
   * One sweeper slice: visits torrents and purges their expired peers, at
   * most `budget` units of work (a torrent visited or a peer removed is one
   * unit), so a tick costs the same whatever the store holds. A torrent with
   * more expired peers than the slice allows is finished by the next slices.
   * Returns the peers removed.
   */
  sweep(now: number, budget: number): SweepResult {
    let removed = 0;
    let work = 0;
    let passDone = false;
    if (budget >= Number.MAX_SAFE_INTEGER) {
      // A whole pass on demand: start from the top.
      this.sweepCursor = null;
      this.sweepHeld = null;
      this.topPending = [];
    }
    this.sweepCursor ??= this.torrents.entries();
    while (work < budget) {
      let entry = this.sweepHeld;
      this.sweepHeld = null;
      // A held torrent may have emptied, been removed and been created anew since:
      // the new swarm is not this one, and must not be deleted on its behalf.
      if (entry !== null && this.torrents.get(entry[0]) !== entry[1]) entry = null;
      if (entry === null) {
        const next = this.sweepCursor.next();
        if (next.done === true) {
          this.sweepCursor = null; // the next slice starts a new pass
          this.top = this.topPending;
          this.topPending = [];
          passDone = true;
          break;
        }
        entry = next.value;
        work++;
      }
      const [infoHash, torrent] = entry;
      const n = this.expire(torrent, now, budget - work);
      removed += n;
      work += n;
      const oldest = torrent.oldestPeer();
      if (oldest !== null && oldest.last <= now - this.peerTtl) {
        this.sweepHeld = entry; // more to purge here next time
        break;
      }
      if (torrent.size === 0) this.torrents.delete(infoHash);
      else this.considerTop(infoHash, torrent);
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

  /** Every torrent, for the state file (peers oldest first in each list). */
  *exportTorrents(): Generator<ExportedTorrent> {
    for (const [infoHash, torrent] of this.torrents) {
      yield {
        infoHash,
        downloaded: torrent.downloaded,
        forEachPeer(visit) {
          for (const list of [torrent.seeders, torrent.leechers]) {
            for (let p = list.oldest; p !== null; p = p.newer) visit(p.id, p.last, p.seeder);
          }
        },
      };
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
      const v4 = s.addr.length === 6;
      if (torrent.find(s.peerId, v4) !== undefined) continue;
      torrent.add({ id: peerEntryId(s.peerId, s.addr), last: s.last, seeder: s.seeder, older: null, newer: null }, v4 ? s.peerId : s.peerId + '6');
      this.livePeers.add(s.last, now);
      if (s.seeder) this.liveSeeders.add(s.last, now);
    }
    this.liveTorrents.add(torrent.newestLast(), now);
    return torrent.size;
  }

  /** Keeps the TOP_SWARMS largest swarms seen in this pass, largest first. */
  private considerTop(infoHash: string, torrent: Torrent): void {
    const peers = torrent.size;
    const top = this.topPending;
    if (top.length === TOP_SWARMS && top[TOP_SWARMS - 1]!.peers >= peers) return;
    const entry = { infoHash, peers, complete: torrent.seeders.size, incomplete: torrent.leechers.size, downloaded: torrent.downloaded };
    let i = top.length;
    while (i > 0 && top[i - 1]!.peers < peers) i--;
    top.splice(i, 0, entry);
    if (top.length > TOP_SWARMS) top.pop();
  }

  /** Removes up to `limit` of the torrent's peers not heard from within the TTL, oldest first. */
  private expire(torrent: Torrent, now: number, limit: number): number {
    const cutoff = now - this.peerTtl;
    let removed = 0;
    while (removed < limit) {
      const oldest = torrent.oldestPeer();
      if (oldest === null || oldest.last > cutoff) break;
      this.remove(torrent, oldest, now);
      removed++;
    }
    return removed;
  }

  private remove(torrent: Torrent, peer: StoredPeer, now: number): void {
    const newestBefore = torrent.newestLast();
    torrent.delete(peer);
    this.livePeers.remove(peer.last, now);
    if (peer.seeder) this.liveSeeders.remove(peer.last, now);
    const newestAfter = torrent.newestLast();
    if (newestAfter !== newestBefore) {
      // The torrent's newest announce changed: move it in the live-torrent count.
      this.liveTorrents.remove(newestBefore, now);
      if (newestAfter >= 0) this.liveTorrents.add(newestAfter, now);
    }
  }

  /**
   * Up to `numwant` peers for `self`: seeders get leechers only; IPv4
   * clients get IPv4 peers only (IPv6 clients get both, IPv4 ::ffff:-mapped).
   * Taken from each list's rotating cursor, in proportion to the list sizes.
   */
  private select(torrent: Torrent, self: StoredPeer, numwant: number, now: number): PeerEntry[] {
    const out: PeerEntry[] = [];
    const cutoff = now - this.peerTtl;
    const v4Only = self.id.length === V4_ID_LENGTH;
    const leechersAvailable = torrent.leechers.size - (self.seeder ? 0 : 1);
    const seedersAvailable = self.seeder ? 0 : torrent.seeders.size;
    const total = leechersAvailable + seedersAvailable;
    if (total <= 0) return out;
    const want = Math.min(numwant, total);
    const fromSeeders = Math.min(seedersAvailable, Math.max(want - leechersAvailable, Math.round((want * seedersAvailable) / total)));
    if (fromSeeders > 0) take(torrent.seeders, fromSeeders, self, v4Only, cutoff, out, false);
    take(torrent.leechers, want - out.length, self, v4Only, cutoff, out, false);
    // Fewer leechers qualified than counted (family, expiry): fill from the seeders.
    if (out.length < want && !self.seeder) take(torrent.seeders, want - out.length, self, v4Only, cutoff, out, true);
    return out;
  }
}
