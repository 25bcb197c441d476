/**
 * HTTP tracker front end: GET /announce and GET /scrape over node:http,
 * through the codec, into the service. Every reply to a tracker request is
 * HTTP 200 with a bencoded body; a bad request gets a `failure reason`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { decode, toLoggable } from '../protocol/bencode.js';
import { errorReply, ProtocolError } from '../protocol/errors.js';
import { encodeAnnounceReply, encodeFailure, encodeScrapeReply, parseAnnounceQuery, parseScrapeQuery } from '../protocol/http.js';
import { ipToBytes } from '../protocol/peers.js';
import type { Transport } from '../protocol/types.js';
import type { TrackerEvents } from '../service/events.js';
import type { ClientAddressResolver } from './client-address.js';
import type { Logger, RateLimitedWarnings } from '../runtime/log.js';
import { whenReady, type TrackerService } from '../service/service.js';

export interface HttpFrontendContext {
  /** 'http' or 'https', for the events. */
  transport: Transport;
  service: TrackerService;
  events: TrackerEvents;
  trackerId: string;
  logger: Logger;
  warnings: RateLimitedWarnings;
  verbose: boolean;
  clients: ClientAddressResolver;
}

/** Longest request line target accepted (a 74-hash scrape is about 5 KiB). */
export const MAX_REQUEST_TARGET = 8192;

/** gzip is used only when the client accepts it (and not with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** Sends a reply; returns the bytes gzip saved (0 when not compressed). */
function send(res: ServerResponse, status: number, body: Buffer, gzip: boolean): number {
  let payload = body;
  const headers: Record<string, string | number> = { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' };
  if (gzip) {
    const compressed = gzipSync(body);
    if (compressed.length < body.length) {
      payload = compressed;
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Vary'] = 'Accept-Encoding';
  }
  headers['Content-Length'] = payload.length;
  res.writeHead(status, headers);
  res.end(payload);
  return body.length - payload.length;
}

export function createHttpHandler(ctx: HttpFrontendContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { transport, service, events, logger, warnings, verbose, clients } = ctx;

  function reply(req: IncomingMessage, res: ServerResponse, body: Buffer, started: number): void {
    if (verbose) logger.debug({ url: req.url, remote: req.socket.remoteAddress, response: toLoggable(decode(body)) }, 'http reply');
    const saved = send(res, 200, body, acceptsGzip(req.headers['accept-encoding']));
    events.replied(transport, body.length - saved, saved, (performance.now() - started) / 1000);
  }

  /** The reply policy (protocol/errors.ts) as a bencoded `failure reason`. */
  function failure(req: IncomingMessage, res: ServerResponse, err: unknown, started: number): void {
    const r = errorReply(err);
    events.refused(transport, r.code);
    if (r.internal) logger.error({ err, url: req.url?.slice(0, 512) }, 'internal error handling a request');
    else if (!r.quiet) warnings.warn({ remote: req.socket.remoteAddress, url: req.url?.slice(0, 512), code: r.code }, `bad request: ${r.text}`);
    reply(req, res, encodeFailure(r.text), started);
  }

  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (url.length > MAX_REQUEST_TARGET) {
      // Refused before any parsing: no tracker request needs this much.
      send(res, 414, Buffer.from('request target too long\n'), false);
      return;
    }
    const isAnnounce = path === '/announce';
    if (!isAnnounce && path !== '/scrape') {
      send(res, 404, Buffer.from('not found: the tracker answers /announce and /scrape\n'), false);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, Buffer.from('method not allowed\n'), false);
      return;
    }
    if (verbose) logger.debug({ url, remote: req.socket.remoteAddress, headers: req.headers }, 'http request');
    try {
      const clientIp = clients.resolve(req.socket.remoteAddress ?? '', req.headers);
      const ipBytes = clientIp === null ? null : ipToBytes(clientIp);
      if (ipBytes === null) {
        failure(req, res, new ProtocolError('bad_forwarded_for'), started);
        return;
      }
      if (isAnnounce) {
        const announce = parseAnnounceQuery(query);
        const result = service.announce(announce, ipBytes, !announce.compact && !announce.noPeerId);
        const family = ipBytes.length === 4 ? 4 : 6;
        const done = whenReady(result, (r) => {
          events.announced(transport, ipBytes);
          reply(
            req,
            res,
            encodeAnnounceReply(r, {
              family,
              compact: announce.compact,
              noPeerId: announce.noPeerId,
              trackerId: ctx.trackerId,
              externalIp: ipBytes,
            }),
            started,
          );
        });
        if (done instanceof Promise) done.catch((err: unknown) => failure(req, res, err, started));
      } else {
        const hashes = parseScrapeQuery(query);
        const done = whenReady(service.scrape(hashes), (files) => {
          events.scraped(transport, ipBytes);
          reply(req, res, encodeScrapeReply(files, service.minInterval), started);
        });
        if (done instanceof Promise) done.catch((err: unknown) => failure(req, res, err, started));
      }
    } catch (err) {
      failure(req, res, err, started);
    }
  };
}

/**
 * Answers every request with a redirect to the same path and query under
 * `base` (e.g. https://tracker.example.net:8443). The request target is
 * copied as received, so percent-encoded bytes survive exactly. 301: the
 * status the original used; libtorrent, Transmission (libcurl) and aria2
 * follow it for GET.
 */
export function createRedirectHandler(base: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const target = req.url !== undefined && req.url.startsWith('/') ? req.url : '/';
    res.writeHead(301, { Location: base + target, 'Content-Length': 0, 'Cache-Control': 'no-store' });
    res.end();
  };
}
