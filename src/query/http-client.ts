/** Announce and scrape over HTTP(S): the I/O; queries and replies go through the shared codec (protocol/http-client.ts). */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv4 } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { isProtocolError } from '../protocol/errors.js';
import { buildAnnounceQuery, buildScrapeQuery, decodeAnnounceReply, decodeScrapeReply, type DecodedAnnounceReply } from '../protocol/http-client.js';
import { networkError, QueryError, refusesInfoHash } from './errors.js';
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
        // Read now, not at 'end': once a TLS socket has closed (Connection: close) it no longer knows its peer.
        const address = res.socket.remoteAddress ?? connected?.address ?? '';
        const family: 4 | 6 = (res.socket.remoteFamily ?? connected?.family) === 'IPv6' ? 6 : 4;
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
          resolve({ body, address, family, responseTimeMs, redirects });
        });
      },
    );
    let connected: { address: string; family: string } | null = null;
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        if (socket.remoteAddress !== undefined) connected = { address: socket.remoteAddress, family: socket.remoteFamily ?? 'IPv4' };
      });
    });
    const timer = setTimeout(() => req.destroy(new QueryError('timeout', `no reply within ${options.timeoutMs} ms`)), remaining);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof QueryError ? err : networkError(err));
    });
    req.end();
  });
}

/** Decodes with the shared codec; an undecodable reply becomes a QueryError showing how it starts. */
function decodeWith<T>(decodeReply: (body: Buffer) => T, body: Buffer): T {
  try {
    return decodeReply(body);
  } catch (err) {
    const preview = JSON.stringify(body.subarray(0, 60).toString('latin1'));
    throw new QueryError('undecodable', `${isProtocolError(err) ? err.message : 'cannot decode'}; reply starts ${preview}`);
  }
}

function classify(ip: string): QueriedPeer['type'] {
  if (isIPv4(ip)) return 'ipv4';
  return /^::ffff:[0-9.]+$/i.test(ip) ? 'ipv4-mapped' : 'ipv6';
}

/** What a decoded announce reply means for the report. */
export function readAnnounceReply(r: DecodedAnnounceReply, reached: Omit<HttpResult, 'body'>): AnnounceReply {
  const peers: QueriedPeer[] = r.peers.map((p) => ({ ip: p.ip, port: p.port, type: classify(p.ip), peerId: p.peerId }));
  const hasIpv4Entries = peers.some((p) => p.type === 'ipv4');
  return {
    ...reached,
    interval: r.interval,
    minInterval: r.minInterval,
    seeders: r.complete,
    leechers: r.incomplete,
    downloaded: r.downloaded,
    peers,
    ipv4Bytes: r.ipv4Bytes,
    ipv6Bytes: r.ipv6Bytes,
    peerFormat: r.peersFormat,
    ipv4OnlyOverIpv6: reached.family === 6 && hasIpv4Entries && !r.hasPeers6,
    warning: r.warning,
    failure: r.failure,
    refusedHash: r.failure !== null && refusesInfoHash(r.failure),
    externalIp: r.externalIp,
    trackerId: r.trackerId,
  };
}

function appendQuery(pathAndQuery: string, query: string): string {
  return pathAndQuery + (pathAndQuery.includes('?') ? '&' : '?') + query;
}

export async function httpAnnounce(tracker: TrackerUrl, p: AnnounceParams, options: QueryOptions): Promise<AnnounceReply> {
  const started = Date.now();
  const query = buildAnnounceQuery({ ...p, peerId: options.identity.peerId });
  const url = withPath(tracker, appendQuery(tracker.pathAndQuery, query));
  const result = await get(url, options, started + options.timeoutMs, [], started);
  return readAnnounceReply(decodeWith(decodeAnnounceReply, result.body), result);
}

/** Scrape: `infoHashes` empty asks for a full scrape. */
export async function httpScrape(tracker: TrackerUrl, infoHashes: readonly string[], options: QueryOptions): Promise<ScrapeReply> {
  const started = Date.now();
  const path = scrapePathFor(tracker);
  const query = buildScrapeQuery(infoHashes);
  const url = withPath(tracker, query === '' ? path : appendQuery(path, query));
  const result = await get(url, options, started + options.timeoutMs, [], started);
  const r = decodeWith(decodeScrapeReply, result.body);
  const out: ScrapeReply = {
    address: result.address,
    family: result.family,
    responseTimeMs: result.responseTimeMs,
    redirects: result.redirects,
    files: r.files.map((f) => ({ infoHash: f.infoHash, seeders: f.complete, leechers: f.incomplete, downloaded: f.downloaded })),
    minRequestInterval: r.minRequestInterval,
    failure: r.failure,
  };
  return out;
}

