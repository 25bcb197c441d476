/**
 * One swarm of the memory store, laid out for memory: no arrays per torrent,
 * no Map for small swarms. A torrent keeps its seeders and its leechers on
 * two intrusive lists in last-announce order (a re-announce moves a peer to
 * the newest end): expiry walks only the expired oldest end, peer lists are
 * handed out from a rotating cursor on each list, and a swarm of up to
 * SMALL_SWARM peers is searched by walking it (a larger one gets a Map index).
 */
import { PEER_ID_LENGTH, type PeerEntry } from '../protocol/peers.js';

export interface StoredPeer extends PeerEntry {
  /** Peer id + compact address (see PeerEntry): 26 bytes for IPv4, 38 for IPv6. */
  id: string;
  /** Last announce, in clock seconds. */
  last: number;
  seeder: boolean;
  /** Neighbours in last-announce order on its list. */
  older: StoredPeer | null;
  newer: StoredPeer | null;
}

/** One of a torrent's two lists (seeders, leechers). */
export class PeerList {
  oldest: StoredPeer | null = null;
  newest: StoredPeer | null = null;
  size = 0;
  /** Where the next peer list handed out starts. */
  cursor: StoredPeer | null = null;

  append(peer: StoredPeer): void {
    peer.older = this.newest;
    peer.newer = null;
    if (this.newest !== null) this.newest.newer = peer;
    else this.oldest = peer;
    this.newest = peer;
    this.size++;
  }

  unlink(peer: StoredPeer): void {
    if (this.cursor === peer) this.cursor = peer.newer;
    if (peer.older !== null) peer.older.newer = peer.newer;
    else this.oldest = peer.newer;
    if (peer.newer !== null) peer.newer.older = peer.older;
    else this.newest = peer.older;
    peer.older = null;
    peer.newer = null;
    this.size--;
  }
}

/** Up to this many peers, a swarm is searched by walking it instead of a Map. */
const SMALL_SWARM = 8;

export class Torrent {
  readonly seeders = new PeerList();
  readonly leechers = new PeerList();
  /** Peer id (+ '6' for an IPv6 peer) → peer, once the swarm outgrows SMALL_SWARM. */
  index: Map<string, StoredPeer> | null = null;
  downloaded = 0;

  get size(): number {
    return this.seeders.size + this.leechers.size;
  }

  /** The last announce of any peer, or -1 when empty. */
  newestLast(): number {
    const s = this.seeders.newest === null ? -1 : this.seeders.newest.last;
    const l = this.leechers.newest === null ? -1 : this.leechers.newest.last;
    return s > l ? s : l;
  }

  /** The peer that announced longest ago. */
  oldestPeer(): StoredPeer | null {
    const s = this.seeders.oldest;
    const l = this.leechers.oldest;
    if (s === null) return l;
    if (l === null) return s;
    return s.last <= l.last ? s : l;
  }

  find(peerId: string, v4: boolean): StoredPeer | undefined {
    if (this.index !== null) return this.index.get(v4 ? peerId : peerId + '6');
    return findIn(this.leechers, peerId, v4) ?? findIn(this.seeders, peerId, v4);
  }

  /** A new peer; `key` is its index key (peer id, + '6' for IPv6). */
  add(peer: StoredPeer, key: string): void {
    (peer.seeder ? this.seeders : this.leechers).append(peer);
    if (this.index !== null) this.index.set(key, peer);
    else if (this.size > SMALL_SWARM) {
      this.index = new Map();
      for (let p = this.leechers.oldest; p !== null; p = p.newer) this.index.set(keyOf(p), p);
      for (let p = this.seeders.oldest; p !== null; p = p.newer) this.index.set(keyOf(p), p);
    }
  }

  /** A re-announce: to the newest end of the list its role says; the index is unchanged. */
  touch(peer: StoredPeer, seeder: boolean): void {
    (peer.seeder ? this.seeders : this.leechers).unlink(peer);
    peer.seeder = seeder;
    (seeder ? this.seeders : this.leechers).append(peer);
  }

  delete(peer: StoredPeer): void {
    (peer.seeder ? this.seeders : this.leechers).unlink(peer);
    this.index?.delete(keyOf(peer));
  }
}

export const V4_ID_LENGTH = PEER_ID_LENGTH + 6;

function findIn(list: PeerList, peerId: string, v4: boolean): StoredPeer | undefined {
  for (let p = list.oldest; p !== null; p = p.newer) {
    if ((p.id.length === V4_ID_LENGTH) === v4 && p.id.startsWith(peerId)) return p;
  }
  return undefined;
}

function keyOf(peer: StoredPeer): string {
  const peerId = peer.id.slice(0, PEER_ID_LENGTH);
  return peer.id.length === V4_ID_LENGTH ? peerId : peerId + '6';
}

/** True when `id` already ends with `addr` (no substring made). */
export function sameAddr(id: string, addr: string): boolean {
  if (id.length !== PEER_ID_LENGTH + addr.length) return false;
  for (let i = 0; i < addr.length; i++) if (id.charCodeAt(PEER_ID_LENGTH + i) !== addr.charCodeAt(i)) return false;
  return true;
}

export const NO_PEERS: readonly PeerEntry[] = [];

/** Appends up to `count` suitable peers from the list's cursor on, wrapping once around. */
export function take(list: PeerList, count: number, self: StoredPeer, v4Only: boolean, cutoff: number, out: PeerEntry[], dedupe: boolean): void {
  if (count <= 0 || list.size === 0) return;
  let p = list.cursor ?? list.oldest;
  let taken = 0;
  for (let visited = 0; visited < list.size && taken < count; visited++) {
    if (p === null) p = list.oldest!;
    if (p !== self && p.last > cutoff && !(v4Only && p.id.length !== V4_ID_LENGTH) && !(dedupe && out.includes(p))) {
      out.push(p);
      taken++;
    }
    p = p.newer;
  }
  list.cursor = p;
}
