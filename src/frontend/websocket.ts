/**
 * WebSocket front end for browser (WebTorrent) peers, on the tracker's HTTP
 * and HTTPS listeners (`ws://host:port/announce`, `wss://` on HTTPS): the
 * `ws` package upgrades the connection, protocol/websocket.ts reads the
 * frames, service/ws-swarms.ts keeps the members and relays offers and
 * answers; the service's rules (access lists, scrape caps) are shared.
 *
 * Limits, because a browser peer holds a socket open for as long as it
 * likes: frame size, offers per announce, a per-socket message rate, swarms
 * per socket, an idle timeout with ping/pong; every socket counts against
 * --max-connections (it is one of the listener's TCP connections).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { errorReply, ProtocolError } from '../protocol/errors.js';
import { ipToBytes } from '../protocol/peers.js';
import type { Transport } from '../protocol/types.js';
import { decodeWsMessage, encodeAnnounceReply, encodeFailure, encodeScrapeReply, type WsRequest } from '../protocol/websocket.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger, RateLimitedWarnings } from '../runtime/log.js';
import type { TrackerEvents } from '../service/events.js';
import { whenReady, type TrackerService } from '../service/service.js';
import type { WsConn, WsSwarms } from '../service/ws-swarms.js';

export interface WsLimits {
  /** Bytes per frame; a larger one closes the socket (1009). */
  maxPayload: number;
  maxOffers: number;
  /** Messages a second a socket may send, on average, and in one burst. */
  messagesPerSecond: number;
  burst: number;
  /** A socket that answers no ping within this is closed. */
  idleMs: number;
  /** Swarms one socket may join (a browser tab seeds a few torrents, not thousands). */
  maxSwarms: number;
}

// A burst as large as the swarms a socket may join: a tab that opens with
// 100 torrents announces all of them at once on its one socket.
export const WS_LIMITS: WsLimits = { maxPayload: 64 * 1024, maxOffers: 10, messagesPerSecond: 10, burst: 100, idleMs: 60_000, maxSwarms: 100 };

/** What browser peers are told to wait between announces, at most: webtorrent makes new offers only when it announces, so a swarm of browsers connects up at this pace (bittorrent-tracker: 120 s). */
export const WS_MAX_INTERVAL = 120;

export interface WsFrontendContext {
  service: TrackerService;
  swarms: WsSwarms;
  events: TrackerEvents;
  clock: Clock;
  logger: Logger;
  warnings: RateLimitedWarnings;
  interval: number;
  limits?: Partial<WsLimits>;
}

interface Client extends WsConn {
  socket: WebSocket;
  transport: Transport;
  ipBytes: string;
  tokens: number;
  refilled: number;
  alive: boolean;
}

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: string, text: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

/** The action and info_hash a failure reply carries, so the client can tell which of its requests failed. */
function contextOf(req: WsRequest | null): { action: string; infoHash?: string } | undefined {
  if (req === null) return undefined;
  return req.action === 'scrape' ? { action: 'scrape' } : { action: 'announce', infoHash: req.infoHash };
}

export class WebSocketFrontend {
  private readonly ctx: WsFrontendContext;
  private readonly limits: WsLimits;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly pinger: NodeJS.Timeout;
  private nextId = 1;

  constructor(ctx: WsFrontendContext) {
    this.ctx = ctx;
    this.limits = { ...WS_LIMITS, ...ctx.limits };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxPayload, perMessageDeflate: false, clientTracking: false });
    // Half the idle time between pings: a socket silent for a whole period has missed one.
    this.pinger = setInterval(() => this.ping(), Math.max(50, this.limits.idleMs / 2));
    this.pinger.unref();
  }

  get open(): number {
    return this.clients.size;
  }

  /** An HTTP(S) listener's `upgrade` event. */
  upgrade(transport: Transport, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/announce' && path !== '/') {
      refuseUpgrade(socket, '404 Not Found', '');
      return;
    }
    // The HTTP listener's idle timeout is for requests; a WebSocket has its own (ping/pong).
    (socket as unknown as { setTimeout(ms: number): void }).setTimeout(0);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, transport, req));
  }

  private accept(socket: WebSocket, transport: Transport, req: IncomingMessage): void {
    const address = req.socket.remoteAddress ?? '';
    const client: Client = {
      id: this.nextId++,
      socket,
      transport,
      ipBytes: ipToBytes(address) ?? '',
      swarms: new Map(),
      tokens: this.limits.burst,
      refilled: performance.now(),
      alive: true,
      send: (text) => {
        if (socket.readyState === socket.OPEN) socket.send(text);
      },
    };
    this.clients.add(client);
    socket.on('pong', () => (client.alive = true));
    socket.on('message', (data: RawData, isBinary: boolean) => this.message(client, data, isBinary));
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      this.clients.delete(client);
      // A socket that closes has stopped in every swarm it joined.
      this.ctx.swarms.leave(client);
    });
  }

  /** Token bucket: false when the socket is over its message rate. */
  private allowed(c: Client): boolean {
    const now = performance.now();
    c.tokens = Math.min(this.limits.burst, c.tokens + ((now - c.refilled) / 1000) * this.limits.messagesPerSecond);
    c.refilled = now;
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  private message(c: Client, data: RawData, isBinary: boolean): void {
    const started = performance.now();
    if (isBinary) {
      // The protocol is JSON text: a binary frame is not a client of ours.
      c.socket.close(1003, 'text frames only');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    if (!this.allowed(c)) {
      this.ctx.events.refused(c.transport, 'rate_limited');
      // Far over the rate: not a browser re-announcing, close it.
      if (c.tokens < -this.limits.burst) {
        c.socket.close(1008, 'too many messages');
        return;
      }
      c.tokens -= 1;
      // webtorrent's client treats a failure without an action as a broken tracker and drops its
      // socket, with every torrent on it: say which announce or scrape is refused.
      c.send(encodeFailure(new ProtocolError('rate_limited').message, contextOf(this.peek(text))));
      return;
    }
    let req: WsRequest | null = null;
    try {
      req = decodeWsMessage(text, this.limits.maxOffers);
      const done = this.handle(c, req);
      if (done instanceof Promise) done.then(() => this.answered(c, started), (err: unknown) => this.fail(c, err, req));
      else this.answered(c, started);
    } catch (err) {
      this.fail(c, err, req);
    }
  }

  private answered(c: Client, started: number): void {
    this.ctx.events.replied(c.transport, 0, 0, (performance.now() - started) / 1000);
  }

  private handle(c: Client, req: WsRequest): void | Promise<void> {
    const { service, swarms, clock, events } = this.ctx;
    const now = clock.now();
    if (req.action === 'answer') {
      swarms.answer(c, req, now);
      return;
    }
    if (req.action === 'scrape') {
      const files = service.scrape(req.infoHashes);
      events.scraped(c.transport, c.ipBytes);
      return whenReady(files, (f) => c.send(encodeScrapeReply(f))) as void | Promise<void>;
    }
    service.check(req.infoHash);
    swarms.announce(c, req, now);
    events.announced(c.transport, c.ipBytes);
    // The reply counts every member: browser peers and the HTTP/UDP ones.
    return whenReady(service.scrape([req.infoHash]), ([f]) => {
      c.send(encodeAnnounceReply(req.infoHash, this.ctx.interval, f?.complete ?? 0, f?.incomplete ?? 0));
    }) as void | Promise<void>;
  }

  private fail(c: Client, err: unknown, req: WsRequest | null): void {
    const reply = errorReply(err);
    this.ctx.events.refused(c.transport, reply.code);
    if (reply.internal) this.ctx.logger.error({ err }, 'internal error handling a websocket message');
    else if (!reply.quiet && !reply.refusal) this.ctx.warnings.warn({ code: reply.code, transport: c.transport }, `bad websocket message: ${reply.text}`);
    c.send(encodeFailure(reply.text, contextOf(req)));
  }

  /** The request a refused message was, if it reads as one. */
  private peek(text: string): WsRequest | null {
    try {
      return decodeWsMessage(text, this.limits.maxOffers);
    } catch {
      return null;
    }
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }

  /** Closes every socket (1001, going away): their peers leave the swarms. */
  close(): void {
    clearInterval(this.pinger);
    for (const c of this.clients) c.socket.close(1001, 'tracker stopping');
    for (const c of this.clients) c.socket.terminate();
    this.wss.close();
  }
}
