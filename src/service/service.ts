/**
 * The tracker's rules, independent of transport: what an announce or a
 * scrape may ask, and what it gets. HTTP and UDP listeners both call this.
 */
import { ProtocolError, type ErrorCode } from '../protocol/errors.js';
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

/** Which torrents are served (--allow-list / --deny-list): the list in force at each request. */
export interface AccessPolicy {
  readonly current: { refuses(infoHash: string): ErrorCode | null };
}

export class TrackerService {
  private readonly store: SwarmStore;
  private readonly options: ServiceOptions;
  private readonly clock: Clock;
  private readonly access: AccessPolicy | null;

  constructor(store: SwarmStore, options: ServiceOptions, clock: Clock, access: AccessPolicy | null = null) {
    this.store = store;
    this.options = options;
    this.clock = clock;
    this.access = access;
  }

  /** Throws the refusal for a torrent this tracker does not serve (an access list); the WebSocket announce's rule. */
  check(infoHash: string): void {
    if (this.access === null) return;
    const refusal = this.access.current.refuses(infoHash);
    if (refusal !== null) throw new ProtocolError(refusal);
  }

  /**
   * Records an announce from a client at `ipBytes` (raw 4 or 16 bytes, latin1:
   * the address the packet came from; client-claimed addresses are ignored).
   */
  announce(req: AnnounceRequest, ipBytes: string, peerIds = false): MaybePromise<AnnounceResult> {
    this.check(req.infoHash);
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
   * A refused hash gets no entry; with `positional` (UDP, whose entries
   * follow the request's order) it gets zeros instead.
   */
  scrape(infoHashes: readonly string[], limit = Infinity, positional = false): MaybePromise<ScrapeFile[]> {
    const access = this.access?.current ?? null;
    if (infoHashes.length === 0) {
      if (!this.options.fullScrape) throw new ProtocolError('full_scrape_disabled');
      const all = this.store.scrapeAll(this.clock.now());
      return access === null ? all : whenReady(all, (files) => files.filter((f) => access.refuses(f.infoHash) === null));
    }
    const max = Math.min(this.options.maxScrapeHashes, limit);
    if (infoHashes.length > max) {
      throw new ProtocolError('too_many_hashes', `${infoHashes.length}, at most ${max}`);
    }
    if (access === null) return this.store.scrape(infoHashes, this.clock.now());
    const served = infoHashes.filter((h) => access.refuses(h) === null);
    if (served.length === infoHashes.length) return this.store.scrape(infoHashes, this.clock.now());
    const files = served.length === 0 ? [] : this.store.scrape(served, this.clock.now());
    if (!positional) return files;
    return whenReady(files, (got) => {
      const byHash = new Map(got.map((f) => [f.infoHash, f]));
      return infoHashes.map((infoHash) => byHash.get(infoHash) ?? { infoHash, complete: 0, incomplete: 0, downloaded: 0 });
    });
  }

  get minInterval(): number {
    return this.options.minInterval;
  }
}
