/**
 * UDP tracker front end (BEP 15) over node:dgram. Stateless: a connection id
 * is a keyed hash of the sender's IP and a time (see connection-id.ts).
 * Packets too short to carry a transaction id are dropped; other bad requests
 * get an action 3 reply. Replies larger than the request (announce, scrape)
 * go only to senders holding a valid connection id, which proves they
 * receive at that address: the tracker cannot be used for amplification.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { errorReply } from '../protocol/errors.js';
import { ipToBytes } from '../protocol/peers.js';
import type { AnnounceResult, ScrapeFile } from '../protocol/types.js';
import {
  decodeRequest,
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  MAX_SCRAPE_HASHES_PER_PACKET,
  UdpRequestError,
} from '../protocol/udp.js';
import type { Logger, RateLimitedWarnings } from '../runtime/log.js';
import type { TrackerEvents } from '../service/events.js';
import type { TrackerService } from '../service/service.js';
import type { ConnectionIds } from './connection-id.js';

export interface UdpFrontendContext {
  service: TrackerService;
  events: TrackerEvents;
  connectionIds: ConnectionIds;
  logger: Logger;
  warnings: RateLimitedWarnings;
  verbose: boolean;
}

export function attachUdpHandler(socket: Socket, ctx: UdpFrontendContext): void {
  const { service, events, connectionIds, logger, warnings, verbose } = ctx;

  function send(packet: Buffer, rinfo: RemoteInfo, started: number): void {
    if (verbose) logger.debug({ remote: rinfo.address, port: rinfo.port, response: packet.toString('hex') }, 'udp reply');
    events.replied('udp', packet.length, 0, (performance.now() - started) / 1000);
    try {
      // No callback: a failed send is the socket's 'error' event (rate-limited in the daemon).
      socket.send(packet, rinfo.port, rinfo.address);
    } catch {
      // The socket is closing: nothing to answer with.
    }
  }

  /**
   * The reply policy (protocol/errors.ts) as an action-3 packet, which never
   * outgrows the request: the sender may not have proven it receives at its
   * address, and the tracker must not amplify a spoofed flood.
   */
  function fail(err: unknown, rinfo: RemoteInfo, transactionId: number | null, requestSize: number, started: number): void {
    const reply = errorReply(err);
    events.refused('udp', reply.code);
    if (reply.internal) logger.error({ err, remote: rinfo.address }, 'internal error handling a udp packet');
    else if (!reply.quiet) warnings.warn({ remote: rinfo.address, code: reply.code }, `bad udp request: ${reply.text}`);
    if (transactionId === null) return;
    const packet = encodeErrorResponse(transactionId, reply.text);
    send(packet.length > requestSize ? packet.subarray(0, Math.max(8, requestSize)) : packet, rinfo, started);
  }

  function replyAnnounce(tx: number, result: AnnounceResult, ipBytes: string, rinfo: RemoteInfo, started: number): void {
    events.announced('udp', ipBytes);
    send(encodeAnnounceResponse(tx, result, ipBytes.length === 4 ? 4 : 6), rinfo, started);
  }

  function replyScrape(tx: number, files: readonly ScrapeFile[], ipBytes: string, rinfo: RemoteInfo, started: number): void {
    events.scraped('udp', ipBytes);
    send(encodeScrapeResponse(tx, files), rinfo, started);
  }

  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const started = performance.now();
    if (verbose) logger.debug({ remote: rinfo.address, port: rinfo.port, request: msg.toString('hex') }, 'udp request');
    let transactionId: number | null = null;
    try {
      const ipBytes = ipToBytes(rinfo.address);
      if (ipBytes === null) return;
      const req = decodeRequest(msg);
      transactionId = req.transactionId;
      if (req.action === 'connect') {
        events.connected('udp', ipBytes);
        send(encodeConnectResponse(req.transactionId, connectionIds.issue(ipBytes)), rinfo, started);
        return;
      }
      if (!connectionIds.verify(req.connectionId, ipBytes)) {
        throw new UdpRequestError('bad_connection_id', req.transactionId);
      }
      const tx = req.transactionId;
      // The in-memory store answers at once: no closure per packet unless a store is asynchronous.
      if (req.action === 'announce') {
        const result = service.announce(req.announce, ipBytes);
        if (result instanceof Promise) result.then((r) => replyAnnounce(tx, r, ipBytes, rinfo, started), (err: unknown) => fail(err, rinfo, tx, msg.length, started));
        else replyAnnounce(tx, result, ipBytes, rinfo, started);
      } else {
        const files = service.scrape(req.infoHashes, MAX_SCRAPE_HASHES_PER_PACKET, true);
        if (files instanceof Promise) files.then((f) => replyScrape(tx, f, ipBytes, rinfo, started), (err: unknown) => fail(err, rinfo, tx, msg.length, started));
        else replyScrape(tx, files, ipBytes, rinfo, started);
      }
    } catch (err) {
      if (err instanceof UdpRequestError) transactionId = err.transactionId;
      fail(err, rinfo, transactionId, msg.length, started);
    }
  });
}
