/**
 * The client side of the HTTP tracker protocol, beside the server side in
 * http.ts: the announce and scrape queries a client sends, and what a
 * tracker's bencoded replies say. Pure: wildkat-query does the I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { decode, isDict, type BDict, type BValue } from './bencode.js';
import { ProtocolError } from './errors.js';
import { percentEncode } from './http.js';
import { bytesToIp, decodeCompactPeers } from './peers.js';
import type { AnnounceEvent } from './types.js';

export interface AnnounceQuery {
  /** Raw 20-byte values, latin1. */
  infoHash: string;
  peerId: string;
  port: number;
  left: number;
  event: AnnounceEvent;
  numwant: number;
  compact: boolean;
  noPeerId: boolean;
  /** BEP 7 `key`, sent as 8 hex digits. */
  key: number;
}

/** The query string of an announce, in the order and with the fields a common client sends. */
export function buildAnnounceQuery(p: AnnounceQuery): string {
  return (
    `info_hash=${percentEncode(p.infoHash)}&peer_id=${percentEncode(p.peerId)}&port=${p.port}` +
    `&uploaded=0&downloaded=0&left=${p.left}&corrupt=0&key=${p.key.toString(16).toUpperCase().padStart(8, '0')}` +
    (p.event === 'none' ? '' : `&event=${p.event}`) +
    `&numwant=${p.numwant}&compact=${p.compact ? 1 : 0}&no_peer_id=${p.noPeerId ? 1 : 0}&supportcrypto=1&redundant=0`
  );
}

/** The query string of a scrape; empty for a full scrape. */
export function buildScrapeQuery(infoHashes: readonly string[]): string {
  return infoHashes.map((h) => `info_hash=${percentEncode(h)}`).join('&');
}

export interface DecodedPeer {
  /** Text form: dotted quad, IPv6, or whatever name the tracker gave. */
  ip: string;
  port: number;
  /** Hex, when the tracker sent one. */
  peerId: string | null;
}

export interface DecodedAnnounceReply {
  interval: number | null;
  minInterval: number | null;
  complete: number | null;
  incomplete: number | null;
  downloaded: number | null;
  /** `peers` (compact or dicts) then `peers6`. */
  peers: DecodedPeer[];
  peersFormat: 'compact' | 'dict' | 'none';
  /** Bytes of compact IPv4 (6 each) and IPv6 (18 each) peer data. */
  ipv4Bytes: number;
  ipv6Bytes: number;
  hasPeers6: boolean;
  warning: string | null;
  failure: string | null;
  externalIp: string | null;
  trackerId: string | null;
}

export interface DecodedScrapeReply {
  /** Keyed by hex info_hash, in the reply's order. */
  files: { infoHash: string; complete: number; incomplete: number; downloaded: number }[];
  minRequestInterval: number | null;
  failure: string | null;
}

/** The reply as a dictionary; ProtocolError when it is not bencode or not a dictionary. */
export function decodeReplyDict(body: Buffer): BDict {
  const value = decode(body);
  if (!isDict(value)) throw new ProtocolError('bad_bencode', 'the reply is not a dictionary');
  return value;
}

function num(d: BDict, key: string): number | null {
  const v = d.get(key);
  return typeof v === 'number' ? v : null;
}

function text(d: BDict, key: string): string | null {
  const v = d.get(key);
  return Buffer.isBuffer(v) ? v.toString('utf8') : null;
}

function dictPeers(list: BValue[]): DecodedPeer[] {
  const peers: DecodedPeer[] = [];
  for (const item of list) {
    if (!isDict(item)) continue;
    const ipValue = item.get('ip');
    const port = num(item, 'port');
    if (!Buffer.isBuffer(ipValue) || port === null) continue;
    // BEP 3: a dotted or hex address or a DNS name; some trackers send raw 4/16 bytes.
    const asText = ipValue.toString('latin1');
    const isText = isIPv4(asText) || isIPv6(asText) || /^[a-z0-9.-]+$/i.test(asText);
    const ip = isText ? asText : ipValue.length === 4 || ipValue.length === 16 ? bytesToIp(ipValue) : asText;
    const id = item.get('peer id');
    peers.push({ ip, port, peerId: Buffer.isBuffer(id) ? id.toString('hex') : null });
  }
  return peers;
}

function compactPeers(data: Buffer, family: 4 | 6): DecodedPeer[] {
  return decodeCompactPeers(data, family).map((p) => ({ ip: p.ip, port: p.port, peerId: null }));
}

export function decodeAnnounceReply(body: Buffer): DecodedAnnounceReply {
  const d = decodeReplyDict(body);
  const peersValue = d.get('peers');
  const peers6Value = d.get('peers6');
  let peers: DecodedPeer[] = [];
  let peersFormat: DecodedAnnounceReply['peersFormat'] = 'none';
  if (Buffer.isBuffer(peersValue)) {
    peers = compactPeers(peersValue, 4);
    peersFormat = 'compact';
  } else if (Array.isArray(peersValue)) {
    peers = dictPeers(peersValue);
    peersFormat = 'dict';
  }
  if (Buffer.isBuffer(peers6Value)) {
    peers = peers.concat(compactPeers(peers6Value, 6));
    peersFormat = 'compact';
  }
  const ext = d.get('external ip');
  return {
    interval: num(d, 'interval'),
    minInterval: num(d, 'min interval'),
    complete: num(d, 'complete'),
    incomplete: num(d, 'incomplete'),
    downloaded: num(d, 'downloaded'),
    peers,
    peersFormat,
    ipv4Bytes: Buffer.isBuffer(peersValue) ? peersValue.length : 0,
    ipv6Bytes: Buffer.isBuffer(peers6Value) ? peers6Value.length : 0,
    hasPeers6: Buffer.isBuffer(peers6Value),
    warning: text(d, 'warning message'),
    failure: text(d, 'failure reason'),
    externalIp: Buffer.isBuffer(ext) && (ext.length === 4 || ext.length === 16) ? bytesToIp(ext) : null,
    trackerId: text(d, 'tracker id'),
  };
}

export function decodeScrapeReply(body: Buffer): DecodedScrapeReply {
  const d = decodeReplyDict(body);
  const files = d.get('files');
  const flags = d.get('flags');
  const out: DecodedScrapeReply = {
    files: [],
    minRequestInterval: isDict(flags) ? num(flags, 'min_request_interval') : null,
    failure: text(d, 'failure reason'),
  };
  if (isDict(files)) {
    for (const [key, value] of files) {
      if (!isDict(value)) continue;
      out.files.push({
        infoHash: Buffer.from(key, 'latin1').toString('hex'),
        complete: num(value, 'complete') ?? 0,
        incomplete: num(value, 'incomplete') ?? 0,
        downloaded: num(value, 'downloaded') ?? 0,
      });
    }
  }
  return out;
}
