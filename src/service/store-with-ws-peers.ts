/**
 * A store's figures with the WebSocket peers added (service/ws-swarms.ts):
 * browser peers are handed only to each other, but they are members of the
 * swarm, so every scrape (HTTP, UDP, WebSocket), every announce's counts and
 * the totals (stats page, metrics) include them.
 */
import type { ScrapeFile } from '../protocol/types.js';
import type { Clock } from '../runtime/clock.js';
import { TOP_SWARMS, type AnnounceOutcome, type MaybePromise, type StoreAnnounce, type StoreTotals, type SwarmStore, type SwarmSummary, type SweepResult } from '../store/store.js';
import { whenReady } from './service.js';
import type { WsCounts, WsSwarms } from './ws-swarms.js';

function plus<T extends WsCounts>(f: T, ws: WsCounts): T {
  return { ...f, complete: f.complete + ws.complete, incomplete: f.incomplete + ws.incomplete, downloaded: f.downloaded + ws.downloaded };
}

export class StoreWithWsPeers implements SwarmStore {
  readonly inner: SwarmStore;
  private readonly ws: WsSwarms;
  private readonly clock: Clock;

  constructor(inner: SwarmStore, ws: WsSwarms, clock: Clock) {
    this.inner = inner;
    this.ws = ws;
    this.clock = clock;
  }

  // On the HTTP/UDP path: the store's outcome as it is unless browser peers share the swarm.
  announce(input: StoreAnnounce, now: number): MaybePromise<AnnounceOutcome | null> {
    const outcome = this.inner.announce(input, now);
    if (!this.ws.has(input.infoHash)) return outcome;
    return whenReady(outcome, (o) => (o === null ? null : plus(o, this.ws.counts(input.infoHash))));
  }

  scrape(infoHashes: readonly string[], now: number): MaybePromise<ScrapeFile[]> {
    const files = this.inner.scrape(infoHashes, now);
    if (this.ws.empty) return files;
    return whenReady(files, (got) => got.map((f) => (this.ws.has(f.infoHash) ? plus(f, this.ws.counts(f.infoHash)) : f)));
  }

  scrapeAll(now: number): MaybePromise<ScrapeFile[]> {
    return whenReady(this.inner.scrapeAll(now), (files) => {
      const seen = new Set(files.map((f) => f.infoHash));
      const out = files.map((f) => plus(f, this.ws.counts(f.infoHash)));
      for (const h of this.ws.hashes()) if (!seen.has(h)) out.push({ infoHash: h, ...this.ws.counts(h) });
      return out;
    });
  }

  sweep(now: number, budget: number): MaybePromise<SweepResult> {
    this.ws.expire(now);
    return this.inner.sweep(now, budget);
  }

  totals(now: number): MaybePromise<StoreTotals> {
    if (this.ws.empty) return this.inner.totals(now);
    return this.totalsWithWs(now, this.ws.totals);
  }

  private async totalsWithWs(now: number, ws: WsSwarms['totals']): Promise<StoreTotals> {
    const t = await this.inner.totals(now);
    // A swarm with members on both sides is one torrent: count only the WebSocket swarms the store does not have.
    const files = await this.inner.scrape([...this.ws.hashes()], now);
    const onlyWs = files.filter((f) => f.complete + f.incomplete === 0).length;
    return { torrents: t.torrents + onlyWs, peers: t.peers + ws.peers, seeders: t.seeders + ws.seeders, leechers: t.leechers + ws.peers - ws.seeders };
  }

  /**
   * The store's largest swarms and the largest browser swarms, each with both
   * sides counted, largest first: a swarm of browsers only, or one whose
   * browsers lift it above the store's tenth, is listed too.
   */
  topSwarms(): MaybePromise<readonly SwarmSummary[]> {
    if (this.ws.empty) return this.inner.topSwarms();
    const top = this.inner.topSwarms();
    return top instanceof Promise ? top.then((t) => this.withBrowsers(t)) : this.withBrowsers(top);
  }

  private withBrowsers(top: readonly SwarmSummary[]): MaybePromise<readonly SwarmSummary[]> {
    const listed = new Set(top.map((s) => s.infoHash));
    const more = this.ws.largest(TOP_SWARMS).filter((h) => !listed.has(h));
    const merge = (files: readonly ScrapeFile[]): SwarmSummary[] =>
      [...top, ...files.map((f) => ({ ...f, peers: f.complete + f.incomplete }))]
        .map((s) => {
          const ws = this.ws.counts(s.infoHash);
          return { ...plus(s, ws), peers: s.peers + ws.complete + ws.incomplete };
        })
        .sort((a, b) => b.peers - a.peers)
        .slice(0, TOP_SWARMS);
    return more.length === 0 ? merge([]) : whenReady(this.inner.scrape(more, this.clock.now()), merge);
  }

  dropTorrents(refuse: (infoHash: string) => boolean, now: number): MaybePromise<number> {
    this.ws.drop(refuse);
    return this.inner.dropTorrents(refuse, now);
  }
}
