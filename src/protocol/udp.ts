/**
 * BEP 15 UDP tracker packets, both directions, plus BEP 41 URL data.
 * Pure functions over Buffers; all integers big-endian.
 */
import { ProtocolError, type ErrorCode } from './errors.js';
import { compactSize, EMPTY_PEERS, writePeerSet, type Family } from './peers.js';
import type { AnnounceEvent, AnnounceRequest, AnnounceResult, ScrapeFile, SwarmCounts } from './types.js';

/** The connect request's magic protocol id, 0x41727101980. */
export const PROTOCOL_ID_HI = 0x417;
export const PROTOCOL_ID_LO = 0x27101980;

export const ACTION_CONNECT = 0;
export const ACTION_ANNOUNCE = 1;
export const ACTION_SCRAPE = 2;
export const ACTION_ERROR = 3;

export const ANNOUNCE_REQUEST_SIZE = 98;
export const SCRAPE_REQUEST_MIN_SIZE = 36;
/** Hashes in one scrape: 16 + 74 × 20 = 1496 bytes, within a 1500-byte MTU. */
export const MAX_SCRAPE_HASHES_PER_PACKET = 74;

const EVENT_CODES: readonly AnnounceEvent[] = ['none', 'completed', 'started', 'stopped'];

/** A request whose transaction id is known: it deserves an action 3 reply. */
export class UdpRequestError extends ProtocolError {
  readonly transactionId: number;
  constructor(code: ErrorCode, transactionId: number) {
    super(code);
    this.transactionId = transactionId;
  }
}

export interface UdpConnectRequest {
  action: 'connect';
  transactionId: number;
}

export interface UdpAnnounceRequest {
  action: 'announce';
  /** The 8 connection id bytes (a view into the packet). */
  connectionId: Buffer;
  transactionId: number;
  announce: AnnounceRequest;
  /** The IPv4 address field (0 = use the sender's); ignored by the tracker. */
  ip: number;
  key: number;
  /** BEP 41 URL data (path and query), latin1; '' when absent. */
  urlData: string;
}

export interface UdpScrapeRequest {
  action: 'scrape';
  connectionId: Buffer;
  transactionId: number;
  /** Raw 20-byte info_hashes, latin1. */
  infoHashes: string[];
}

export type UdpRequest = UdpConnectRequest | UdpAnnounceRequest | UdpScrapeRequest;

function uint64(buf: Buffer, offset: number): number {
  // Counters past 2^53 lose precision; the tracker only needs left === 0.
  return buf.readUInt32BE(offset) * 0x1_0000_0000 + buf.readUInt32BE(offset + 4);
}

function writeUint64(buf: Buffer, value: number, offset: number): void {
  const v = Math.max(0, Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER));
  buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000), offset);
  buf.writeUInt32BE(v % 0x1_0000_0000, offset + 4);
}

/** BEP 41: concatenated URL data options; stops at EndOfOptions or a truncated option. */
function decodeUrlData(buf: Buffer, offset: number): string {
  let urlData = '';
  let pos = offset;
  while (pos < buf.length) {
    const type = buf[pos]!;
    if (type === 0) break;
    if (type === 1) {
      pos++;
      continue;
    }
    const length = buf[pos + 1];
    if (length === undefined || pos + 2 + length > buf.length) break;
    if (type === 2) urlData += buf.toString('latin1', pos + 2, pos + 2 + length);
    pos += 2 + length;
  }
  return urlData;
}

/**
 * Decodes a client's request. Throws UdpRequestError (reply with action 3)
 * when the transaction id is known, plain ProtocolError (drop silently) when
 * the packet is too short to have one.
 */
export function decodeRequest(buf: Buffer): UdpRequest {
  if (buf.length < 16) throw new ProtocolError('short_packet');
  const action = buf.readUInt32BE(8);
  const transactionId = buf.readUInt32BE(12);
  if (action === ACTION_CONNECT) {
    if (buf.readUInt32BE(0) !== PROTOCOL_ID_HI || buf.readUInt32BE(4) !== PROTOCOL_ID_LO) {
      throw new UdpRequestError('bad_protocol_id', transactionId);
    }
    return { action: 'connect', transactionId };
  }
  const connectionId = buf.subarray(0, 8);
  if (action === ACTION_ANNOUNCE) {
    if (buf.length < ANNOUNCE_REQUEST_SIZE) throw new UdpRequestError('short_announce', transactionId);
    const eventCode = buf.readUInt32BE(80);
    const event = EVENT_CODES[eventCode];
    if (event === undefined) throw new UdpRequestError('invalid_event', transactionId);
    const port = buf.readUInt16BE(96);
    if (port === 0) throw new UdpRequestError('invalid_port', transactionId);
    const numwant = buf.readInt32BE(92);
    return {
      action: 'announce',
      connectionId,
      transactionId,
      announce: {
        infoHash: buf.toString('latin1', 16, 36),
        peerId: buf.toString('latin1', 36, 56),
        downloaded: uint64(buf, 56),
        left: uint64(buf, 64),
        uploaded: uint64(buf, 72),
        event,
        numwant: numwant < 0 ? null : numwant,
        port,
      },
      ip: buf.readUInt32BE(84),
      key: buf.readUInt32BE(88),
      urlData: buf.length > ANNOUNCE_REQUEST_SIZE ? decodeUrlData(buf, ANNOUNCE_REQUEST_SIZE) : '',
    };
  }
  if (action === ACTION_SCRAPE) {
    if (buf.length < SCRAPE_REQUEST_MIN_SIZE) throw new UdpRequestError('short_scrape', transactionId);
    const count = Math.floor((buf.length - 16) / 20);
    const infoHashes: string[] = new Array<string>(count);
    for (let i = 0; i < count; i++) infoHashes[i] = buf.toString('latin1', 16 + i * 20, 36 + i * 20);
    return { action: 'scrape', connectionId, transactionId, infoHashes };
  }
  throw new UdpRequestError('unknown_action', transactionId);
}

export function encodeConnectResponse(transactionId: number, connectionId: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(16);
  out.writeUInt32BE(ACTION_CONNECT, 0);
  out.writeUInt32BE(transactionId, 4);
  out.set(connectionId.subarray(0, 8), 8);
  return out;
}

/** Announce reply: 20 bytes then 6-byte (IPv4) or 18-byte (IPv6) peers. */
export function encodeAnnounceResponse(transactionId: number, result: AnnounceResult, family: Family): Buffer {
  const peers = result.peers.count > 0 && result.peers.entrySize !== compactSize(family) ? EMPTY_PEERS : result.peers;
  const out = Buffer.allocUnsafe(20 + peers.count * peers.entrySize);
  out.writeUInt32BE(ACTION_ANNOUNCE, 0);
  out.writeUInt32BE(transactionId, 4);
  out.writeUInt32BE(result.interval, 8);
  out.writeUInt32BE(Math.min(result.incomplete, 0xffffffff), 12);
  out.writeUInt32BE(Math.min(result.complete, 0xffffffff), 16);
  writePeerSet(peers, out, 20);
  return out;
}

/** Scrape reply: per hash, in request order, seeders, completed, leechers. */
export function encodeScrapeResponse(transactionId: number, files: readonly SwarmCounts[]): Buffer {
  const out = Buffer.allocUnsafe(8 + files.length * 12);
  out.writeUInt32BE(ACTION_SCRAPE, 0);
  out.writeUInt32BE(transactionId, 4);
  let pos = 8;
  for (const f of files) {
    out.writeUInt32BE(Math.min(f.complete, 0xffffffff), pos);
    out.writeUInt32BE(Math.min(f.downloaded, 0xffffffff), pos + 4);
    out.writeUInt32BE(Math.min(f.incomplete, 0xffffffff), pos + 8);
    pos += 12;
  }
  return out;
}

export function encodeErrorResponse(transactionId: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const out = Buffer.allocUnsafe(8 + text.length);
  out.writeUInt32BE(ACTION_ERROR, 0);
  out.writeUInt32BE(transactionId, 4);
  text.copy(out, 8);
  return out;
}

// ---- the client's side (wildkat-query and tests) ----

export function encodeConnectRequest(transactionId: number): Buffer {
  const out = Buffer.allocUnsafe(16);
  out.writeUInt32BE(PROTOCOL_ID_HI, 0);
  out.writeUInt32BE(PROTOCOL_ID_LO, 4);
  out.writeUInt32BE(ACTION_CONNECT, 8);
  out.writeUInt32BE(transactionId, 12);
  return out;
}

export interface AnnounceRequestPacket {
  connectionId: Uint8Array;
  transactionId: number;
  announce: AnnounceRequest;
  key: number;
  /** BEP 41 URL data (path and query); sent as type-2 options when non-empty. */
  urlData?: string;
}

export function encodeAnnounceRequest(p: AnnounceRequestPacket): Buffer {
  const url = Buffer.from(p.urlData ?? '', 'latin1');
  const chunks = Math.ceil(url.length / 255);
  const out = Buffer.alloc(ANNOUNCE_REQUEST_SIZE + (url.length > 0 ? url.length + chunks * 2 + 1 : 0));
  out.set(p.connectionId.subarray(0, 8), 0);
  out.writeUInt32BE(ACTION_ANNOUNCE, 8);
  out.writeUInt32BE(p.transactionId, 12);
  out.write(p.announce.infoHash, 16, 20, 'latin1');
  out.write(p.announce.peerId, 36, 20, 'latin1');
  writeUint64(out, p.announce.downloaded, 56);
  // BEP 15 has no "absent": an unknown amount left is sent as the most there can be.
  writeUint64(out, p.announce.left ?? Number.MAX_SAFE_INTEGER, 64);
  writeUint64(out, p.announce.uploaded, 72);
  out.writeUInt32BE(EVENT_CODES.indexOf(p.announce.event), 80);
  out.writeUInt32BE(0, 84);
  out.writeUInt32BE(p.key >>> 0, 88);
  out.writeInt32BE(p.announce.numwant === null ? -1 : Math.min(p.announce.numwant, 0x7fffffff), 92);
  out.writeUInt16BE(p.announce.port, 96);
  let pos = ANNOUNCE_REQUEST_SIZE;
  for (let i = 0; i < url.length; i += 255) {
    const part = url.subarray(i, i + 255);
    out[pos++] = 2;
    out[pos++] = part.length;
    out.set(part, pos);
    pos += part.length;
  }
  if (url.length > 0) out[pos] = 0; // EndOfOptions
  return out;
}

export function encodeScrapeRequest(connectionId: Uint8Array, transactionId: number, infoHashes: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(16 + infoHashes.length * 20);
  out.set(connectionId.subarray(0, 8), 0);
  out.writeUInt32BE(ACTION_SCRAPE, 8);
  out.writeUInt32BE(transactionId, 12);
  infoHashes.forEach((h, i) => out.write(h, 16 + i * 20, 20, 'latin1'));
  return out;
}

export type UdpResponse =
  | { action: 'connect'; transactionId: number; connectionId: Buffer }
  | { action: 'announce'; transactionId: number; interval: number; leechers: number; seeders: number; peers: Buffer }
  | { action: 'scrape'; transactionId: number; files: SwarmCounts[] }
  | { action: 'error'; transactionId: number; message: string };

/** Decodes a tracker's reply; throws ProtocolError when it is malformed. */
export function decodeResponse(buf: Buffer): UdpResponse {
  if (buf.length < 8) throw new ProtocolError('short_reply', `${buf.length} bytes, at least 8`);
  const action = buf.readUInt32BE(0);
  const transactionId = buf.readUInt32BE(4);
  switch (action) {
    case ACTION_CONNECT:
      if (buf.length < 16) throw new ProtocolError('short_reply', 'connect reply shorter than 16 bytes');
      return { action: 'connect', transactionId, connectionId: Buffer.from(buf.subarray(8, 16)) };
    case ACTION_ANNOUNCE:
      if (buf.length < 20) throw new ProtocolError('short_reply', 'announce reply shorter than 20 bytes');
      return {
        action: 'announce',
        transactionId,
        interval: buf.readUInt32BE(8),
        leechers: buf.readUInt32BE(12),
        seeders: buf.readUInt32BE(16),
        peers: Buffer.from(buf.subarray(20)),
      };
    case ACTION_SCRAPE: {
      if ((buf.length - 8) % 12 !== 0) throw new ProtocolError('bad_reply_length');
      const files: SwarmCounts[] = [];
      for (let pos = 8; pos + 12 <= buf.length; pos += 12) {
        files.push({ complete: buf.readUInt32BE(pos), downloaded: buf.readUInt32BE(pos + 4), incomplete: buf.readUInt32BE(pos + 8) });
      }
      return { action: 'scrape', transactionId, files };
    }
    case ACTION_ERROR:
      return { action: 'error', transactionId, message: buf.toString('utf8', 8) };
    default:
      throw new ProtocolError('unknown_action', `${action} in reply`);
  }
}

export type { ScrapeFile };
