/**
 * HTTP tracker protocol: announce/scrape query parsing and reply building
 * (BEP 3, 7, 23, 24, 48). Pure functions, no I/O.
 *
 * Query values are percent-decoded byte by byte into latin1 strings, never
 * through URLSearchParams, which decodes as UTF-8 and corrupts raw
 * info_hash / peer_id bytes.
 */
import { encode } from './bencode.js';
import { ProtocolError, type ErrorCode } from './errors.js';
import { bytesToIp, compactSize, EMPTY_PEERS, writePeerSet, type Family } from './peers.js';
import type { AnnounceEvent, AnnounceRequest, AnnounceResult, ScrapeFile } from './types.js';

export interface HttpAnnounceRequest extends AnnounceRequest {
  /** BEP 23 compact list; true unless the client sent compact=0. */
  compact: boolean;
  /** Leave `peer id` out of dict peers. */
  noPeerId: boolean;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Decodes an application/x-www-form-urlencoded value to raw bytes as a latin1
 * string: `%XX` is one byte (any value, %00 included), `+` is a space, and a
 * `%` not followed by two hex digits stays literal.
 */
export function percentDecode(raw: string): string {
  // Decoded through a scratch Buffer: the result is a fresh flat string, never
  // a slice that would keep the whole request URL alive inside the store.
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 /* % */ && i + 2 < raw.length) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = c === 0x2b /* + */ ? 0x20 : c;
  }
  return out.toString('latin1', 0, n);
}

/** Percent-encodes raw bytes (latin1 string or Buffer) for a query string. */
export function percentEncode(bytes: string | Uint8Array): string {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  let out = '';
  for (const c of b) {
    const unreserved =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
    out += unreserved ? String.fromCharCode(c) : `%${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Splits a query string into decoded keys and decoded values (latin1), in order. */
export function parseQuery(query: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  if (query.length === 0) return params;
  for (const pair of query.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const key = percentDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : percentDecode(pair.slice(eq + 1));
    const list = params.get(key);
    if (list) list.push(value);
    else params.set(key, [value]);
  }
  return params;
}

function bad(code: ErrorCode, detail?: string): never {
  throw new ProtocolError(code, detail);
}

function bytes20(value: string | undefined, key: 'info_hash' | 'peer_id'): string {
  if (value === undefined) bad(`missing_${key}`);
  if (value.length !== 20) bad(`invalid_${key}`, `got ${value.length}`);
  return value;
}

const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

function count<F>(value: string | undefined, key: 'uploaded' | 'downloaded' | 'left', fallback: F): number | F {
  if (value === undefined || value === '') return fallback;
  if (!/^[0-9]{1,20}$/.test(value)) bad(`invalid_${key}`);
  return Math.min(Number(value), MAX_COUNTER);
}

/** The announce parameters the tracker reads: the first occurrence of each, still encoded. */
interface AnnounceFields {
  info_hash?: string;
  peer_id?: string;
  port?: string;
  uploaded?: string;
  downloaded?: string;
  left?: string;
  event?: string;
  numwant?: string;
  compact?: string;
  no_peer_id?: string;
}

const ANNOUNCE_KEYS: ReadonlySet<string> = new Set(['info_hash', 'peer_id', 'port', 'uploaded', 'downloaded', 'left', 'event', 'numwant', 'compact', 'no_peer_id']);

/** One pass over the query, no intermediate arrays: this runs for every HTTP announce. */
function scanAnnounce(query: string): AnnounceFields {
  const fields: AnnounceFields = {};
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    if (end > start) {
      const eq = query.indexOf('=', start);
      const keyEnd = eq < 0 || eq > end ? end : eq;
      let key = query.slice(start, keyEnd);
      if (key.includes('%') || key.includes('+')) key = percentDecode(key);
      if (ANNOUNCE_KEYS.has(key) && fields[key as keyof AnnounceFields] === undefined) {
        fields[key as keyof AnnounceFields] = keyEnd === end ? '' : query.slice(keyEnd + 1, end);
      }
    }
    start = end + 1;
  }
  return fields;
}

/** Decoded text of a field only read here (numbers, flags): as it is when nothing is escaped. */
function decoded(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.includes('%') || value.includes('+') ? percentDecode(value) : value;
}

/** Decoded bytes of a field the store may keep (info_hash, peer_id): always a fresh copy. */
function decodedBytes(value: string | undefined): string | undefined {
  return value === undefined ? undefined : percentDecode(value);
}

const EVENTS: ReadonlyMap<string, AnnounceEvent> = new Map([
  ['', 'none'],
  ['empty', 'none'],
  ['started', 'started'],
  ['completed', 'completed'],
  ['stopped', 'stopped'],
  ['paused', 'none'], // BEP 21: a partial seed pausing still counts as present.
]);

/** Parses the query of GET /announce; throws ProtocolError naming the bad field. */
export function parseAnnounceQuery(query: string): HttpAnnounceRequest {
  const f = scanAnnounce(query);
  const infoHash = bytes20(decodedBytes(f.info_hash), 'info_hash');
  const peerId = bytes20(decodedBytes(f.peer_id), 'peer_id');
  const portText = decoded(f.port);
  if (portText === undefined) bad('missing_port');
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) bad('invalid_port');
  const eventText = decoded(f.event) ?? '';
  const event = EVENTS.get(eventText);
  if (event === undefined) bad('invalid_event', JSON.stringify(eventText.slice(0, 16)));
  const numwantText = decoded(f.numwant);
  let numwant: number | null = null;
  if (numwantText !== undefined && numwantText !== '') {
    // Some clients send -1 for "default"; anything else non-numeric is an error.
    if (!/^-?[0-9]{1,10}$/.test(numwantText)) bad('invalid_numwant');
    const n = Number(numwantText);
    numwant = n < 0 ? null : n;
  }
  return {
    infoHash,
    peerId,
    port: Number(portText),
    uploaded: count(decoded(f.uploaded), 'uploaded', 0),
    downloaded: count(decoded(f.downloaded), 'downloaded', 0),
    // BEP 3 requires left; the service decides what its absence means.
    left: count(decoded(f.left), 'left', null),
    event,
    numwant,
    compact: decoded(f.compact) !== '0',
    noPeerId: decoded(f.no_peer_id) === '1',
  };
}

/** Parses the query of GET /scrape: the raw info_hashes asked for (empty: full scrape). */
export function parseScrapeQuery(query: string): string[] {
  const hashes = parseQuery(query).get('info_hash') ?? [];
  for (const h of hashes) {
    if (h.length !== 20) bad('invalid_info_hash', `got ${h.length}`);
  }
  return [...new Set(hashes)];
}

export interface AnnounceReplyOptions {
  /** Family of the requesting client: IPv6 clients get every peer in `peers6`. */
  family: Family;
  compact: boolean;
  noPeerId: boolean;
  trackerId: string;
  /** BEP 24: the client's IP as raw bytes (latin1, 4 or 16); omitted when null. */
  externalIp: string | null;
  warning?: string;
}

/**
 * Builds the bencoded announce reply. The compact form (the common case) is
 * assembled directly into one Buffer: keys are constant and sorted, peers are
 * copied from their precomputed compact bytes.
 */
export function encodeAnnounceReply(result: AnnounceResult, opts: AnnounceReplyOptions): Buffer {
  if (!opts.compact) return encodeDictAnnounceReply(result, opts);
  const peers = result.peers.count > 0 && result.peers.entrySize !== compactSize(opts.family) ? EMPTY_PEERS : result.peers;
  const peerBytes = peers.count * peers.entrySize;
  const peersKey = opts.family === 4 ? '5:peers' : '6:peers6';
  let head =
    `d8:completei${result.complete}e10:downloadedi${result.downloaded}e` +
    (opts.externalIp === null ? '' : `11:external ip${opts.externalIp.length}:${opts.externalIp}`) +
    `10:incompletei${result.incomplete}e8:intervali${result.interval}e12:min intervali${result.minInterval}e`;
  // BEP 3 names `peers` as required: IPv6 clients get an empty one beside peers6.
  if (opts.family === 6) head += '5:peers0:';
  head += `${peersKey}${peerBytes}:`;
  const trackerId = Buffer.from(opts.trackerId, 'utf8');
  const tailText = `10:tracker id${trackerId.length}:`;
  const warning = opts.warning === undefined ? null : Buffer.from(opts.warning, 'utf8');
  const warningHead = warning === null ? '' : `15:warning message${warning.length}:`;
  const total =
    head.length + peerBytes + tailText.length + trackerId.length + warningHead.length + (warning?.length ?? 0) + 1;
  const out = Buffer.allocUnsafe(total);
  let pos = out.write(head, 0, 'latin1');
  pos += writePeerSet(peers, out, pos);
  pos += out.write(tailText, pos, 'latin1');
  pos += trackerId.copy(out, pos);
  if (warning !== null) {
    pos += out.write(warningHead, pos, 'latin1');
    pos += warning.copy(out, pos);
  }
  out[pos] = 0x65; // e
  return out;
}

function encodeDictAnnounceReply(result: AnnounceResult, opts: AnnounceReplyOptions): Buffer {
  const set = result.peers;
  const peers: Map<string, string | number | Uint8Array>[] = [];
  for (let n = 0; n < set.count; n++) {
    const at = n * set.entrySize;
    const ipLength = set.entrySize - 2;
    const dict = new Map<string, string | number | Uint8Array>([
      ['ip', bytesToIp(set.addrs.subarray(at, at + ipLength))],
      ['port', (set.addrs[at + ipLength]! << 8) | set.addrs[at + ipLength + 1]!],
    ]);
    if (!opts.noPeerId) dict.set('peer id', Buffer.from(set.ids.subarray(n * 20, n * 20 + 20)));
    peers.push(dict);
  }
  return encode({
    complete: result.complete,
    downloaded: result.downloaded,
    'external ip': opts.externalIp === null ? undefined : Buffer.from(opts.externalIp, 'latin1'),
    incomplete: result.incomplete,
    interval: result.interval,
    'min interval': result.minInterval,
    peers,
    'tracker id': opts.trackerId,
    'warning message': opts.warning,
  });
}

/** BEP 48 scrape reply: `files` keyed by raw info_hash, and `flags`. */
export function encodeScrapeReply(files: readonly ScrapeFile[], minRequestInterval: number): Buffer {
  // Raw-byte keys, sorted by bytes (latin1 string order is byte order).
  const sorted = [...files].sort((a, b) => (a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0));
  let text = 'd5:filesd';
  for (const f of sorted) {
    text += `20:${f.infoHash}d8:completei${f.complete}e10:downloadedi${f.downloaded}e10:incompletei${f.incomplete}ee`;
  }
  text += `e5:flagsd20:min_request_intervali${minRequestInterval}eee`;
  return Buffer.from(text, 'latin1');
}

/** A bencoded `failure reason` reply (sent with HTTP 200, as clients expect). */
export function encodeFailure(reason: string): Buffer {
  return encode({ 'failure reason': reason });
}
