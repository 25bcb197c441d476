/** Protocol-neutral request and reply types shared by HTTP and UDP, and the transport names. */
import type { PeerSet } from './peers.js';

/** Every transport the tracker answers on; tables sized by transport follow this list. */
export const TRANSPORTS = ['udp', 'https', 'http', 'wss', 'ws'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export type AnnounceEvent = 'none' | 'started' | 'completed' | 'stopped';

export interface AnnounceRequest {
  /** Raw 20-byte info_hash, latin1. */
  infoHash: string;
  /** Raw 20-byte peer_id, latin1. */
  peerId: string;
  port: number;
  uploaded: number;
  downloaded: number;
  /** Bytes still to download; null when the client did not say (BEP 3 requires it). */
  left: number | null;
  event: AnnounceEvent;
  /** Peers wanted; null when the client did not say (the default applies). */
  numwant: number | null;
}

export interface SwarmCounts {
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Times a peer announced `completed`. */
  downloaded: number;
}

export interface AnnounceResult extends SwarmCounts {
  interval: number;
  minInterval: number;
  peers: PeerSet;
}

export interface ScrapeFile extends SwarmCounts {
  /** Raw 20-byte info_hash, latin1. */
  infoHash: string;
}
