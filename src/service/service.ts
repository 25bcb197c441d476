/**
 * The tracker's rules, independent of transport: what an announce or a
 * scrape may ask, and what it gets. HTTP and UDP listeners both call this.
 */
import { ProtocolError } from '../protocol/errors.js';
import { compactAddr } from '../protocol/peers.js';
import type { AnnounceRequest, AnnounceResult, ScrapeFile } from '../protocol/types.js';
import type { Clock } from '../runtime/clock.js';
import type { AnnounceOutcome, MaybePromise, SwarmStore } from '../store/store.js';

export const DEFAULT_NUMWANT = 50;

export interface ServiceOptions {
  interval: number;
  minInterval: number;
  maxPeers: number;
  maxScrapeHashes: number;
  fullScrape: boolean;
}

/** Runs `then` on a value now, or when its promise settles (a shared store is async). */
export function whenReady<T, R>(value: MaybePromise<T>, then: (v: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}

export class TrackerService {
  private readonly store: SwarmStore;
  private readonly options: ServiceOptions;
  private readonly clock: Clock;

  constructor(store: SwarmStore, options: ServiceOptions, clock: Clock) {
    this.store = store;
    this.options = options;
    this.clock = clock;
  }

  /**
   * Records an announce from a client at `ipBytes` (raw 4 or 16 bytes, latin1:
   * the address the packet came from; client-claimed addresses are ignored).
   */
  announce(req: AnnounceRequest, ipBytes: string, peerIds = false): MaybePromise<AnnounceResult> {
    const numwant = req.event === 'stopped' ? 0 : Math.min(req.numwant ?? DEFAULT_NUMWANT, this.options.maxPeers);
    const outcome = this.store.announce(
      {
        infoHash: req.infoHash,
        peerId: req.peerId,
        addr: compactAddr(ipBytes, req.port),
        // left=0 makes a seeder; a client that leaves `left` out is a leecher.
        seeder: req.left === 0,
        event: req.event,
        numwant,
        peerIds,
      },
      this.clock.now(),
    );
    return outcome instanceof Promise ? outcome.then((o) => this.result(o)) : this.result(outcome);
  }

  private result(o: AnnounceOutcome | null): AnnounceResult {
    if (o === null) throw new ProtocolError('torrent_limit');
    return {
      complete: o.complete,
      incomplete: o.incomplete,
      downloaded: o.downloaded,
      peers: o.peers,
      interval: this.options.interval,
      minInterval: this.options.minInterval,
    };
  }

  /**
   * Counts for the hashes asked, or for every torrent when none are asked and
   * full scrape is allowed. `limit` lowers the per-request cap (UDP packet size).
   */
  scrape(infoHashes: readonly string[], limit = Infinity): MaybePromise<ScrapeFile[]> {
    if (infoHashes.length === 0) {
      if (!this.options.fullScrape) throw new ProtocolError('full_scrape_disabled');
      return this.store.scrapeAll(this.clock.now());
    }
    const max = Math.min(this.options.maxScrapeHashes, limit);
    if (infoHashes.length > max) {
      throw new ProtocolError('too_many_hashes', `${infoHashes.length}, at most ${max}`);
    }
    return this.store.scrape(infoHashes, this.clock.now());
  }

  get minInterval(): number {
    return this.options.minInterval;
  }
}
