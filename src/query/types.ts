/** What a query sends and what it learns, the same for every transport. */
import type { AnnounceEvent } from '../protocol/types.js';
import type { ClientIdentity } from './identity.js';

export interface QueryOptions {
  identity: ClientIdentity;
  /** Overall time allowed for one query, ms. */
  timeoutMs: number;
  /** Force the address family used to reach the tracker. */
  family?: 4 | 6;
  /** Extra CA certificate(s) to trust for https://, PEM. */
  ca?: Buffer;
  /** Skip TLS certificate checks (self-signed trackers). */
  insecure?: boolean;
  /** First BEP 15 retransmission wait, ms (15 s by the BEP; tests shorten it). */
  udpRetransmitBaseMs?: number;
}

export interface AnnounceParams {
  /** Raw 20-byte info_hash, latin1. */
  infoHash: string;
  event: AnnounceEvent;
  numwant: number;
  port: number;
  left: number;
  compact: boolean;
  noPeerId: boolean;
  key: number;
}

export interface QueriedPeer {
  ip: string;
  port: number;
  /** ipv4, ipv6, or ipv4-mapped (an IPv4 address given as ::ffff:a.b.c.d). */
  type: 'ipv4' | 'ipv6' | 'ipv4-mapped';
  /** Hex, when the tracker sent one. */
  peerId: string | null;
  hostname?: string | null;
}

export interface Reached {
  /** The address that answered, and its family. */
  address: string;
  family: 4 | 6;
  responseTimeMs: number;
  /** Redirects followed (HTTP), in order. */
  redirects: string[];
}

export interface AnnounceReply extends Reached {
  interval: number | null;
  minInterval: number | null;
  seeders: number | null;
  leechers: number | null;
  downloaded: number | null;
  peers: QueriedPeer[];
  /** Bytes of compact IPv4 (6 each) and IPv6 (18 each) peer data. */
  ipv4Bytes: number;
  ipv6Bytes: number;
  /** How the tracker listed peers. */
  peerFormat: 'compact' | 'dict' | 'none';
  /** The tracker put peers in `peers` but none in `peers6` (or 6-byte entries over UDP/IPv6). */
  ipv4OnlyOverIpv6: boolean;
  warning: string | null;
  failure: string | null;
  /**
   * The tracker answered but refuses this info_hash: a failure reason such
   * as "not authorized", or (UDP) an 8-byte announce reply, which is how
   * opentracker answers an info_hash not on its whitelist.
   */
  refusedHash: boolean;
  externalIp: string | null;
  trackerId: string | null;
}

export interface ScrapeFileReply {
  /** Hex. */
  infoHash: string;
  seeders: number;
  leechers: number;
  downloaded: number;
}

export interface ScrapeReply extends Reached {
  files: ScrapeFileReply[];
  minRequestInterval: number | null;
  failure: string | null;
}
