/**
 * The store contract: every swarm rule a store keeps. The memory store
 * (memory-store.ts) keeps them; any other store (Redis) must keep them
 * unchanged, and test/store/contract.ts checks them against a store given
 * by a factory. Request rules (numwant default and cap, what `left=0` and
 * `stopped` mean, scrape caps, full-scrape policy, turning a refusal into an
 * error reply) belong to the service, not here.
 *
 * Swarm rules:
 * 1. Announce records the peer (peer id + address family identify it; a
 *    re-announce replaces its address, port and role, never duplicates it)
 *    and returns the torrent's counts after the update: complete (seeders),
 *    incomplete (leechers), downloaded, and up to `numwant` peers.
 * 2. A peer is never handed itself. A seeder is handed only leechers; a
 *    leecher is handed seeders and leechers.
 * 3. Address families: a requester over IPv4 is handed IPv4 peers only; one
 *    over IPv6 is handed both (the frontend maps IPv4 into ::ffff:). The same
 *    peer id over IPv4 and over IPv6 is two peers (one per family, each
 *    counted: a dual-stack client is reachable at both addresses), but a
 *    requester is never handed its own record of the other family.
 * 4. Successive announces rotate through the swarm: with numwant below the
 *    swarm's size, every other peer is handed out within a few announces.
 * 5. Completed: event `completed` adds one to `downloaded`, unless the peer
 *    was already a seeder (a repeat is not a new download).
 * 6. Stopped removes the peer and hands out no peers; stopped for an unknown
 *    torrent creates nothing. A torrent whose last peer left disappears.
 * 7. TTL: a peer not heard from for `peerTtl` seconds (last + peerTtl <= now)
 *    is never handed out and never counted (announce, scrape, totals), swept
 *    or not; `sweep` removes it in bounded slices.
 * 8. Torrent limit: an announce that would add a torrent beyond
 *    `maxTorrents` is refused (returns null); known torrents keep working.
 * 9. Scrape answers in the order asked, zeros for unknown torrents; scrapeAll
 *    lists every live torrent and no empty one.
 * 10. Totals count live torrents, peers, seeders and leechers exactly.
 * 11. topSwarms: the ten largest swarms as of the last complete sweep pass,
 *    largest first.
 * 12. dropTorrents removes every torrent its predicate picks (an access list
 *    reloaded to refuse them), at once: its peers leave every count and it
 *    is scraped as unknown; it returns how many torrents it removed.
 * Every method may answer with a value or a promise (a shared store is
 * asynchronous); the memory store answers at once.
 */
import type { PeerSet } from '../protocol/peers.js';
import type { AnnounceEvent, ScrapeFile, SwarmCounts } from '../protocol/types.js';

/** How many swarms topSwarms lists (rule 11). */
export const TOP_SWARMS = 10;

export type MaybePromise<T> = T | Promise<T>;

export interface StoreAnnounce {
  infoHash: string;
  peerId: string;
  /** Compact address (IP bytes + port), latin1: 6 bytes IPv4, 18 bytes IPv6. */
  addr: string;
  seeder: boolean;
  event: AnnounceEvent;
  /** Peers to return, already capped by the service. */
  numwant: number;
  /** Fill the reply's peer ids too (a non-compact reply with peer ids); otherwise only addresses are written. */
  peerIds?: boolean;
}

export interface AnnounceOutcome extends SwarmCounts {
  peers: PeerSet;
}

/** Live figures: only peers heard from within the TTL, whether swept yet or not. */
export interface StoreTotals {
  torrents: number;
  peers: number;
  seeders: number;
  leechers: number;
}

/** One swarm in the "top swarms" list. */
export interface SwarmSummary extends SwarmCounts {
  /** Raw 20-byte info_hash, latin1. */
  infoHash: string;
  peers: number;
}

export interface SweepResult {
  /** Peers removed. */
  removed: number;
  /** Units of work done (at most the budget). */
  work: number;
  /** True when the slice ended at the end of a pass over every torrent. */
  passDone: boolean;
}

export interface SwarmStore {
  /** null: refused, the announce would add a torrent beyond the store's limit. */
  announce(input: StoreAnnounce, now: number): MaybePromise<AnnounceOutcome | null>;
  /** Counts for each hash, in the order asked (zeros for unknown torrents). */
  scrape(infoHashes: readonly string[], now: number): MaybePromise<ScrapeFile[]>;
  /** Counts for every torrent. */
  scrapeAll(now: number): MaybePromise<ScrapeFile[]>;
  /** One sweeper slice of at most `budget` units of work (torrents visited + peers purged). */
  sweep(now: number, budget: number): MaybePromise<SweepResult>;
  totals(now: number): MaybePromise<StoreTotals>;
  /** The largest swarms as of the last complete sweeper pass, largest first. */
  topSwarms(): MaybePromise<readonly SwarmSummary[]>;
  /** Removes every torrent `refuse` picks; returns how many. */
  dropTorrents(refuse: (infoHash: string) => boolean, now: number): MaybePromise<number>;
}

/** A peer as saved: raw peer id and compact address (latin1), last announce (clock seconds), role. */
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

/** One torrent being exported: its peers are visited in place, not copied (a snapshot of millions of peers allocates nothing per peer). */
export interface ExportedTorrent {
  infoHash: string;
  downloaded: number;
  /**
   * Calls `visit` for each peer with where its bytes are: the 20-byte peer
   * id at `idAt` and the compact address (6 or 18 bytes) at `addrAt` in
   * `bytes`, then its last announce and role.
   */
  forEachPeer(visit: (bytes: Uint8Array, idAt: number, addrAt: number, addrLen: number, last: number, seeder: boolean) => void): void;
}

/** What a store implements to be saved to and loaded from a --state-file. */
export interface Snapshottable {
  /** Every torrent, one at a time; the caller may yield to the event loop between torrents. */
  exportTorrents(): Iterable<ExportedTorrent>;
  /** Restores a saved torrent, leaving out peers past their TTL; returns the peers kept. */
  importTorrent(saved: SavedTorrent, now: number): number;
}

export function isSnapshottable(store: SwarmStore): store is SwarmStore & Snapshottable {
  const s = store as Partial<Snapshottable>;
  return typeof s.exportTorrents === 'function' && typeof s.importTorrent === 'function';
}
