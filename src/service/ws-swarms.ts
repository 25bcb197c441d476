/**
 * The WebSocket (WebTorrent) peers of every swarm, and the offers the
 * tracker passed between them. A browser peer can only reach another
 * browser peer (WebRTC), so these members are handed only to each other;
 * the store's HTTP/UDP peers are never offered to them, nor they to those.
 * They count in every scrape and total all the same (store-with-ws-peers.ts).
 *
 * Relay rule (what bittorrent-tracker gets wrong): an answer goes to
 * `to_peer_id` only if this tracker sent that offer, from that peer to the
 * answering socket, within OFFER_TTL seconds; each offer answers once.
 */
import { ProtocolError } from '../protocol/errors.js';
import { encodeAnswer, encodeOffer, type WsAnnounce, type WsAnswer } from '../protocol/websocket.js';
import { fitsLargest, insertLargest } from '../store/largest.js';

/** A browser's connection, as the registry sees it. */
export interface WsConn {
  readonly id: number;
  send(text: string): void;
  /** Swarm (raw info_hash) → the peer id this connection announced in it. */
  readonly swarms: Map<string, string>;
}

interface Member {
  conn: WsConn;
  peerId: string;
  seeder: boolean;
  last: number;
  /** Position in the swarm's list. */
  at: number;
}

interface WsSwarm {
  members: Map<string, Member>;
  /** The same members in an array (swap-remove), for picking offer recipients without copying the swarm. */
  list: Member[];
  seeders: number;
  downloaded: number;
  /** Where the next offers start among the members (rotates). */
  cursor: number;
}

/** Seconds an offer may be answered (webtorrent's client gives up on it after 50). */
export const OFFER_TTL = 60;
/** Offers remembered at most; the oldest are forgotten first. */
const MAX_PENDING_OFFERS = 200_000;

interface PendingOffer {
  to: WsConn;
  toPeerId: string;
  from: WsConn;
  until: number;
}

export interface WsCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

export class WsSwarms {
  private readonly swarms = new Map<string, WsSwarm>();
  /** `<info_hash><offer_id><from peer id>` → who may answer it (the connection and the peer id it went to), until when. Insertion order is time order. */
  private readonly offers = new Map<string, PendingOffer>();
  private readonly maxSwarmsPerConn: number;
  private readonly maxSwarms: number;
  private readonly peerTtl: number;
  private peers = 0;
  private seeders = 0;

  /** `maxSwarms`: --max-torrents, applied to the swarms of browser peers apart from the store's torrents. */
  constructor(options: { maxSwarmsPerConn: number; peerTtl: number; maxSwarms?: number }) {
    this.maxSwarmsPerConn = options.maxSwarmsPerConn;
    this.maxSwarms = options.maxSwarms ?? Infinity;
    this.peerTtl = options.peerTtl;
  }

  /**
   * Records the announce and passes each offer to a different other member
   * (a seeder's only to leechers). Returns the swarm's WebSocket counts after it.
   */
  announce(conn: WsConn, req: WsAnnounce, now: number): WsCounts {
    const seeder = req.left === 0 || req.event === 'completed';
    let swarm = this.swarms.get(req.infoHash);
    const had = conn.swarms.get(req.infoHash);
    if (req.event === 'stopped') {
      if (swarm !== undefined && had !== undefined) this.remove(swarm, req.infoHash, had, conn);
      return this.counts(req.infoHash);
    }
    if (had === undefined && conn.swarms.size >= this.maxSwarmsPerConn) throw new ProtocolError('too_many_swarms', `at most ${this.maxSwarmsPerConn}`);
    if (swarm !== undefined) {
      // A connection that announces a new peer id in a swarm replaces its old one.
      if (had !== undefined && had !== req.peerId) this.remove(swarm, req.infoHash, had, conn);
      const member = swarm.members.get(req.peerId);
      // The same peer id from another connection (a reconnected browser): the newer connection wins.
      if (member !== undefined && member.conn !== conn) this.remove(swarm, req.infoHash, req.peerId, member.conn);
      // Either removal may have emptied the swarm and taken it off the map: the new member goes into the live one.
      swarm = this.swarms.get(req.infoHash);
    }
    if (swarm === undefined) {
      if (this.swarms.size >= this.maxSwarms) throw new ProtocolError('torrent_limit');
      swarm = { members: new Map(), list: [], seeders: 0, downloaded: 0, cursor: 0 };
      this.swarms.set(req.infoHash, swarm);
    }
    const current = swarm.members.get(req.peerId);
    if (req.event === 'completed' && !(current?.seeder ?? false)) swarm.downloaded++;
    if (current === undefined) {
      const m: Member = { conn, peerId: req.peerId, seeder, last: now, at: swarm.list.length };
      swarm.members.set(req.peerId, m);
      swarm.list.push(m);
      conn.swarms.set(req.infoHash, req.peerId);
      this.peers++;
      if (seeder) {
        swarm.seeders++;
        this.seeders++;
      }
    } else {
      if (current.seeder !== seeder) {
        const d = seeder ? 1 : -1;
        swarm.seeders += d;
        this.seeders += d;
      }
      current.seeder = seeder;
      current.last = now;
    }
    if (req.offers.length > 0) this.relayOffers(swarm, req, conn, seeder, now);
    return this.counts(req.infoHash);
  }

  private relayOffers(swarm: WsSwarm, req: WsAnnounce, conn: WsConn, seeder: boolean, now: number): void {
    // From a rotating position, each member at most once; a bounded walk (a swarm of seeders has few takers for a seeder).
    const list = swarm.list;
    let sent = 0;
    let looked = 0;
    const budget = Math.min(list.length, req.offers.length * 8 + 8);
    for (let p = swarm.cursor % Math.max(1, list.length); sent < req.offers.length && looked < budget; p = (p + 1) % list.length, looked++) {
      const to = list[p]!;
      if (to.conn === conn || to.peerId === req.peerId || (seeder && to.seeder) || to.last <= now - this.peerTtl) continue;
      const offer = req.offers[sent++]!;
      this.remember(`${req.infoHash}${offer.offerId}${req.peerId}`, { to: to.conn, toPeerId: to.peerId, from: conn, until: now + OFFER_TTL }, now);
      to.conn.send(encodeOffer(req.infoHash, req.peerId, offer));
    }
    swarm.cursor = list.length === 0 ? 0 : (swarm.cursor + looked) % list.length;
  }

  private remember(key: string, entry: PendingOffer, now: number): void {
    for (const [k, v] of this.offers) {
      if (v.until > now && this.offers.size < MAX_PENDING_OFFERS) break;
      this.offers.delete(k);
    }
    this.offers.delete(key);
    this.offers.set(key, entry);
  }

  /** Passes an answer back to the offer's sender; refuses one to an offer this tracker did not send this connection. */
  answer(conn: WsConn, a: WsAnswer, now: number): void {
    const key = `${a.infoHash}${a.offerId}${a.toPeerId}`;
    const sent = this.offers.get(key);
    // The answer must come from the peer the offer went to, on its connection: the answerer's peer id is passed on as it is.
    if (sent === undefined || sent.to !== conn || sent.toPeerId !== a.peerId || sent.until <= now) throw new ProtocolError('unknown_offer');
    this.offers.delete(key);
    const swarm = this.swarms.get(a.infoHash);
    const target = swarm?.members.get(a.toPeerId);
    // The offerer is still there, on the connection that made the offer.
    if (target === undefined || target.conn !== sent.from) return;
    target.conn.send(encodeAnswer(a));
  }

  /** A connection closed: it has stopped in every swarm it joined, and its offers die with it. */
  leave(conn: WsConn): void {
    for (const [infoHash, peerId] of [...conn.swarms]) {
      const swarm = this.swarms.get(infoHash);
      if (swarm !== undefined) this.remove(swarm, infoHash, peerId, conn);
    }
  }

  private remove(swarm: WsSwarm, infoHash: string, peerId: string, conn: WsConn): void {
    const m = swarm.members.get(peerId);
    if (m !== undefined && m.conn === conn) {
      swarm.members.delete(peerId);
      const last = swarm.list.pop()!;
      if (last !== m) {
        swarm.list[m.at] = last;
        last.at = m.at;
      }
      this.peers--;
      if (m.seeder) {
        swarm.seeders--;
        this.seeders--;
      }
    }
    if (conn.swarms.get(infoHash) === peerId) conn.swarms.delete(infoHash);
    // An empty swarm keeps its downloaded count only while it has members, as the store does.
    if (swarm.members.size === 0) this.swarms.delete(infoHash);
  }

  /** Members not heard from for the peer TTL leave (a browser re-announces every interval). */
  expire(now: number): number {
    let gone = 0;
    for (const [infoHash, swarm] of [...this.swarms]) {
      for (const [peerId, m] of [...swarm.members]) {
        if (m.last <= now - this.peerTtl) {
          this.remove(swarm, infoHash, peerId, m.conn);
          gone++;
        }
      }
    }
    return gone;
  }

  /** Drops the swarms `refuse` picks (an access list reloaded). */
  drop(refuse: (infoHash: string) => boolean): void {
    for (const [infoHash, swarm] of [...this.swarms]) {
      if (!refuse(infoHash)) continue;
      for (const [peerId, m] of [...swarm.members]) this.remove(swarm, infoHash, peerId, m.conn);
    }
  }

  /** Whether any browser peer is in this swarm (the HTTP/UDP hot path asks first, and allocates nothing when not). */
  has(infoHash: string): boolean {
    return this.swarms.has(infoHash);
  }

  get empty(): boolean {
    return this.swarms.size === 0;
  }

  counts(infoHash: string): WsCounts {
    const s = this.swarms.get(infoHash);
    if (s === undefined) return { complete: 0, incomplete: 0, downloaded: 0 };
    return { complete: s.seeders, incomplete: s.members.size - s.seeders, downloaded: s.downloaded };
  }

  hashes(): IterableIterator<string> {
    return this.swarms.keys();
  }

  /** The `n` swarms with the most browser peers, most first. */
  largest(n: number): string[] {
    const top: { infoHash: string; peers: number }[] = [];
    for (const [infoHash, s] of this.swarms) {
      if (fitsLargest(top, n, s.members.size)) insertLargest(top, n, { infoHash, peers: s.members.size });
    }
    return top.map((t) => t.infoHash);
  }

  get totals(): { torrents: number; peers: number; seeders: number } {
    return { torrents: this.swarms.size, peers: this.peers, seeders: this.seeders };
  }
}
