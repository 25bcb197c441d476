/**
 * The TCP side of the HTTP and HTTPS listeners (tracker and stats page):
 * timeouts against slow and idle clients, TLS handshakes that must finish,
 * protocol-correct replies to requests the parser refuses, and the drain on
 * shutdown that answers every request already received.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';
import type { Logger, RateLimitedWarnings } from '../runtime/log.js';
import type { TrackerEvents } from '../service/events.js';
import { listenTcp, type ListenerKind } from './listen.js';
import { SocketCloser } from './socket-closer.js';
import type { CertificateReloader, TlsMaterial } from './tls.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpLimits {
  /** Whole request headers must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** The whole request must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all is closed after this. */
  idleTimeoutMs: number;
  /** A TLS handshake must finish within this. */
  handshakeTimeoutMs: number;
  /** How often the timeouts above are enforced. */
  checkIntervalMs: number;
  /** On shutdown, how long in-flight requests may take before connections are cut. */
  drainMs: number;
}

export const HTTP_LIMITS: Readonly<HttpLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  checkIntervalMs: 1_000,
  drainMs: 3_000,
};

/** On shutdown, how long connections that have sent nothing yet may still send their request. */
const DRAIN_LINGER_MS = 500;
const netServerClose = NetServer.prototype.close;

/** The status Node itself would send for a request its parser refused. */
function clientErrorStatus(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

export interface HttpServersContext {
  limits: HttpLimits;
  /** Certificate and key for the HTTPS listeners (null: none configured). */
  tls: TlsMaterial | null;
  reloader: CertificateReloader | null;
  maxConnections: number;
  events: TrackerEvents;
  logger: Logger;
  warnings: RateLimitedWarnings;
  /** WebSocket upgrades on the tracker listeners (http, https); none: refused. */
  upgrade?: (kind: ListenerKind, req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export class HttpServers {
  private readonly ctx: HttpServersContext;
  private readonly servers: Server[] = [];
  private readonly kinds = new Map<Server, ListenerKind>();
  private readonly closer = new SocketCloser();
  private draining = false;
  /** Requests received but never fully answered (reported when the tracker stops). */
  cutRequests = 0;

  constructor(ctx: HttpServersContext) {
    this.ctx = ctx;
  }

  /** A listener of `kind` on address:port (0: any); returns the bound port. */
  async listen(kind: ListenerKind, address: string, port: number, family: 4 | 6, handler: Handler): Promise<number> {
    const { events, warnings } = this.ctx;
    const server = this.create(kind, handler);
    const bound = await listenTcp(server, kind, address, port, family === 6);
    this.kinds.set(server, kind);
    // After listening, the only errors are accept failures: the listener keeps going. (EMFILE
    // never gets here: libuv drops those connections itself; FdWatch reports it.)
    server.on('error', (err: NodeJS.ErrnoException) => {
      events.connectionFailed('accept');
      warnings.warn({ code: err.code, listener: kind, err: err.message }, 'accept failed');
    });
    return bound;
  }

  /** How many listeners of these kinds are up (accepting connections). */
  up(kinds: readonly ListenerKind[]): number {
    let n = 0;
    for (const [server, kind] of this.kinds) if (server.listening && kinds.includes(kind)) n++;
    return n;
  }

  private create(kind: ListenerKind, handler: Handler): Server {
    const { limits, tls, reloader, events, logger, warnings } = this.ctx;
    const serverOptions = {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      // Request line and headers together; more is answered 431 by the parser.
      maxHeaderSize: 16 * 1024,
    };
    const secure = kind === 'https' || kind === 'web-https';
    if (secure && tls === null) throw new Error(`${kind} listener without a certificate`);
    const server: Server =
      secure && tls !== null
        ? createHttpsServer({ ...serverOptions, cert: tls.cert, key: tls.key, handshakeTimeout: limits.handshakeTimeoutMs }, handler)
        : createHttpServer(serverOptions, handler);
    if (secure) reloader?.add(server as unknown as TlsServer);
    server.maxConnections = this.ctx.maxConnections;
    const upgrade = this.ctx.upgrade;
    if (upgrade !== undefined && (kind === 'http' || kind === 'https')) server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(kind, req, socket, head));
    // While shutting down, every reply ends its connection.
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (this.draining) res.shouldKeepAlive = false;
      res.once('close', () => {
        if (!res.writableFinished) this.cutRequests++;
      });
    });
    server.setTimeout(limits.idleTimeoutMs, (socket) => this.closer.destroy(socket));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // A TLS failure was handled (logged once, destroyed) by the tlsClientError listener below.
      if (socket.destroyed) return;
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        logger.debug({ code: err.code, listener: kind }, 'client reset the connection');
        socket.destroy();
        return;
      }
      warnings.warn({ code: err.code, listener: kind }, 'malformed http request');
      this.closer.end(socket, `HTTP/1.1 ${clientErrorStatus(err.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    if (secure) {
      // First in line: https re-emits a TLS failure as clientError, whose reply a socket
      // without a finished handshake can never send (it would sit in CLOSE-WAIT forever).
      server.prependListener('tlsClientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
        events.connectionFailed('tls_handshake');
        warnings.warn({ code: err.code, listener: kind }, 'TLS handshake failed');
        socket.destroy();
      });
    }
    this.servers.push(server);
    return server;
  }

  /**
   * Stops accepting, answers every request already received (with
   * `Connection: close`), gives connections that are open but not yet read a
   * moment to send their request, closes idle ones, and cuts whatever is
   * left after limits.drainMs.
   */
  async drain(): Promise<void> {
    this.draining = true;
    const { drainMs } = this.ctx.limits;
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) {
              resolve();
              return;
            }
            const linger = setTimeout(() => s.closeIdleConnections(), DRAIN_LINGER_MS);
            const cut = setTimeout(() => s.closeAllConnections(), drainMs);
            // net.Server#close only stops accepting; http.Server#close would also drop
            // connections whose request is on its way but not yet read.
            netServerClose.call(s, () => {
              clearTimeout(linger);
              clearTimeout(cut);
              s.close(() => resolve()); // clears http's own timers; the server is already closed
            });
          }),
      ),
    );
  }
}
