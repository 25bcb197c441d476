/** Announce and scrape over HTTP(S), through the shared codec. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv4, isIPv6 } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { decode, isDict, type BDict, type BValue } from '../protocol/bencode.js';
import { isProtocolError } from '../protocol/errors.js';
import { percentEncode } from '../protocol/http.js';
import { bytesToIp, decodeCompactPeers } from '../protocol/peers.js';
import { QueryError } from './errors.js';
import type { AnnounceParams, AnnounceReply, QueriedPeer, QueryOptions, ScrapeReply } from './types.js';
import { scrapePathFor, withPath, type TrackerUrl } from './url.js';

const MAX_REDIRECTS = 5;
const MAX_BODY = 8 * 1024 * 1024;

interface HttpResult {
  body: Buffer;
  address: string;
  family: 4 | 6;
  responseTimeMs: number;
  redirects: string[];
}

function get(url: string, options: QueryOptions, deadline: number, redirects: string[], started: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      reject(new QueryError('timeout', `no reply within ${options.timeoutMs} ms`));
      return;
    }
    const req = send(
      url,
      {
        method: 'GET',
        headers: { 'User-Agent': options.identity.userAgent, 'Accept-Encoding': 'gzip', Connection: 'close' },
        agent: false,
        ...(options.family !== undefined ? { family: options.family } : {}),
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        ...(options.insecure === true ? { rejectUnauthorized: false } : {}),
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (status >= 300 && status < 400 && location !== undefined) {
          res.resume();
          clearTimeout(timer);
          if (redirects.length >= MAX_REDIRECTS) {
            reject(new QueryError('http-status', `more than ${MAX_REDIRECTS} redirects`));
            return;
          }
          const next = new URL(location, url).toString();
          redirects.push(`${status} → ${next}`);
          get(next, options, deadline, redirects, started).then(resolve, reject);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new QueryError('undecodable', `reply larger than ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('error', (err) => reject(err));
        res.on('end', () => {
          clearTimeout(timer);
          const responseTimeMs = Date.now() - started;
          if (status !== 200) {
            reject(new QueryError('http-status', `HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
            return;
          }
          let body = Buffer.concat(chunks);
          const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
          try {
            if (encoding === 'gzip' || encoding === 'x-gzip') body = gunzipSync(body);
            else if (encoding === 'deflate') body = inflateSync(body);
          } catch (err) {
            reject(new QueryError('undecodable', `cannot decompress the ${encoding} reply: ${(err as Error).message}`));
            return;
          }
          const address = res.socket.remoteAddress ?? '';
          resolve({ body, address, family: res.socket.remoteFamily === 'IPv6' ? 6 : 4, responseTimeMs, redirects });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new QueryError('timeout', `no reply within ${options.timeoutMs} ms`)), remaining);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof QueryError ? err : new QueryError('network', `${err.code ?? ''} ${err.message}`.trim()));
    });
    req.end();
  });
}

function decodeDict(body: Buffer): BDict {
  let value: BValue;
  try {
    value = decode(body);
  } catch (err) {
    const preview = JSON.stringify(body.subarray(0, 60).toString('latin1'));
    throw new QueryError('undecodable', `${isProtocolError(err) ? err.message : 'cannot decode'}; reply starts ${preview}`);
  }
  if (!isDict(value)) throw new QueryError('undecodable', 'the reply is not a bencoded dictionary');
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

function classify(ip: string): QueriedPeer['type'] {
  if (isIPv4(ip)) return 'ipv4';
  return /^::ffff:[0-9.]+$/i.test(ip) ? 'ipv4-mapped' : 'ipv6';
}

function compactPeers(data: Buffer, family: 4 | 6): QueriedPeer[] {
  return decodeCompactPeers(data, family).map((p) => ({ ip: p.ip, port: p.port, type: classify(p.ip), peerId: null }));
}

function dictPeers(list: BValue[]): QueriedPeer[] {
  const peers: QueriedPeer[] = [];
  for (const item of list) {
    if (!isDict(item)) continue;
    const ipValue = item.get('ip');
    const port = num(item, 'port');
    if (!Buffer.isBuffer(ipValue) || port === null) continue;
    // BEP 3: a dotted or hex address or a DNS name; some trackers send raw 4/16 bytes.
    const asText = ipValue.toString('latin1');
    const ip = isIPv4(asText) || isIPv6(asText) || /^[a-z0-9.-]+$/i.test(asText) ? asText : ipValue.length === 4 || ipValue.length === 16 ? bytesToIp(ipValue) : asText;
    const id = item.get('peer id');
    peers.push({ ip, port, type: classify(ip), peerId: Buffer.isBuffer(id) ? id.toString('hex') : null });
  }
  return peers;
}

/** Interprets a decoded announce reply. */
export function readAnnounceReply(d: BDict, reached: Omit<HttpResult, 'body'>): AnnounceReply {
  const peersValue = d.get('peers');
  const peers6Value = d.get('peers6');
  let peers: QueriedPeer[] = [];
  let ipv4Bytes = 0;
  let ipv6Bytes = 0;
  let peerFormat: AnnounceReply['peerFormat'] = 'none';
  if (Buffer.isBuffer(peersValue)) {
    peers = compactPeers(peersValue, 4);
    ipv4Bytes = peersValue.length;
    peerFormat = 'compact';
  } else if (Array.isArray(peersValue)) {
    peers = dictPeers(peersValue);
    peerFormat = 'dict';
  }
  if (Buffer.isBuffer(peers6Value)) {
    peers = peers.concat(compactPeers(peers6Value, 6));
    ipv6Bytes = peers6Value.length;
    peerFormat = 'compact';
  }
  const ext = d.get('external ip');
  const hasIpv4Entries = peers.some((p) => p.type === 'ipv4');
  return {
    ...reached,
    interval: num(d, 'interval'),
    minInterval: num(d, 'min interval'),
    seeders: num(d, 'complete'),
    leechers: num(d, 'incomplete'),
    downloaded: num(d, 'downloaded'),
    peers,
    ipv4Bytes,
    ipv6Bytes,
    peerFormat,
    ipv4OnlyOverIpv6: reached.family === 6 && hasIpv4Entries && !Buffer.isBuffer(peers6Value),
    warning: text(d, 'warning message'),
    failure: text(d, 'failure reason'),
    externalIp: Buffer.isBuffer(ext) && (ext.length === 4 || ext.length === 16) ? bytesToIp(ext) : null,
    trackerId: text(d, 'tracker id'),
  };
}

export function announceQuery(p: AnnounceParams, options: QueryOptions): string {
  return (
    `info_hash=${percentEncode(p.infoHash)}&peer_id=${percentEncode(options.identity.peerId)}&port=${p.port}` +
    `&uploaded=0&downloaded=0&left=${p.left}&corrupt=0&key=${p.key.toString(16).toUpperCase().padStart(8, '0')}` +
    (p.event === 'none' ? '' : `&event=${p.event}`) +
    `&numwant=${p.numwant}&compact=${p.compact ? 1 : 0}&no_peer_id=${p.noPeerId ? 1 : 0}&supportcrypto=1&redundant=0`
  );
}

function appendQuery(pathAndQuery: string, query: string): string {
  return pathAndQuery + (pathAndQuery.includes('?') ? '&' : '?') + query;
}

export async function httpAnnounce(tracker: TrackerUrl, p: AnnounceParams, options: QueryOptions): Promise<AnnounceReply> {
  const started = Date.now();
  const url = withPath(tracker, appendQuery(tracker.pathAndQuery, announceQuery(p, options)));
  const result = await get(url, options, started + options.timeoutMs, [], started);
  return readAnnounceReply(decodeDict(result.body), result);
}

/** Scrape: `infoHashes` empty asks for a full scrape. */
export async function httpScrape(tracker: TrackerUrl, infoHashes: readonly string[], options: QueryOptions): Promise<ScrapeReply> {
  const started = Date.now();
  const path = scrapePathFor(tracker);
  const query = infoHashes.map((h) => `info_hash=${percentEncode(h)}`).join('&');
  const url = withPath(tracker, query === '' ? path : appendQuery(path, query));
  const result = await get(url, options, started + options.timeoutMs, [], started);
  const d = decodeDict(result.body);
  const files = d.get('files');
  const flags = d.get('flags');
  const out: ScrapeReply = {
    address: result.address,
    family: result.family,
    responseTimeMs: result.responseTimeMs,
    redirects: result.redirects,
    files: [],
    minRequestInterval: isDict(flags) ? num(flags, 'min_request_interval') : null,
    failure: text(d, 'failure reason'),
  };
  if (isDict(files)) {
    for (const [key, value] of files) {
      if (!isDict(value)) continue;
      out.files.push({
        infoHash: Buffer.from(key, 'latin1').toString('hex'),
        seeders: num(value, 'complete') ?? 0,
        leechers: num(value, 'incomplete') ?? 0,
        downloaded: num(value, 'downloaded') ?? 0,
      });
    }
  }
  return out;
}

