/**
 * Wires one swarm store, the TTL sweeper, the tracker listeners (HTTP, HTTPS,
 * UDP) and the stats page listeners into one running tracker, and takes it
 * down again.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { existsSync } from 'node:fs';
import { isIPv6, Server as NetServer, type AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';
import { StatsCollector } from '../stats/collector.js';
import { createStatsHandler, type AnnounceUrls } from '../stats/page-server.js';
import { VERSION } from '../runtime/version.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { ConfigError, domainHost, flagOf, resolveOptions, type TrackerOptions } from '../runtime/config.js';
import { ConnectionIds } from '../frontend/connection-id.js';
import { createHttpHandler, createRedirectHandler } from '../frontend/http.js';
import { ClientAddressResolver } from '../frontend/client-address.js';
import { loadState, removeStaleTemporaries, saveState, type LoadResult } from '../store/state-file.js';
import { createLogger, RateLimitedWarnings, type Logger } from '../runtime/log.js';
import { LoopDelayMonitor } from '../runtime/loop-delay.js';
import { MemoryStore } from '../store/memory-store.js';
import { TrackerService } from '../service/service.js';
import { isSnapshottable, type SwarmStore } from '../store/store.js';
import { CertificateReloader, loadTlsMaterial, type TlsMaterial } from '../frontend/tls.js';
import { attachUdpHandler } from '../frontend/udp.js';
import { FdWatch } from '../runtime/fd-watch.js';
import { SocketCloser } from '../frontend/socket-closer.js';
import { Sweeper } from '../store/sweeper.js';

export const CERT_WATCH_INTERVAL_MS = 10_000;
/** On shutdown, how long connections that have sent nothing yet may still send their request. */
const DRAIN_LINGER_MS = 500;
const netServerClose = NetServer.prototype.close;

export type ListenerKind = 'http' | 'https' | 'udp' | 'web-http' | 'web-https';

export interface ListenerInfo {
  protocol: ListenerKind;
  family: 4 | 6;
  address: string;
  port: number;
}

export interface TrackerDeps {
  clock?: Clock;
  logger?: Logger;
  store?: SwarmStore;
  /** How often to look for a renewed certificate on disk. */
  certWatchIntervalMs?: number;
  /** HTTP timeouts (tests shorten them). */
  http?: Partial<HttpLimits>;
}

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

export interface RunningTracker {
  readonly options: TrackerOptions;
  readonly listeners: readonly ListenerInfo[];
  readonly store: SwarmStore;
  readonly stats: StatsCollector;
  readonly logger: Logger;
  /** The bound port of the first listener of a kind and family. */
  port(protocol: ListenerKind, family?: 4 | 6): number;
  /** One complete sweeper pass now (tests; the timer does it in slices). */
  sweepAll(): Promise<number>;
  /** Writes the --state-file now. */
  saveState(): Promise<void>;
  /** Loads --cert/--key again (SIGHUP); false when it failed or there is no TLS. */
  reloadCertificates(): boolean;
  close(): Promise<void>;
}

/** A listener could not bind: the message names the flag, address and fix. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly flag: string;
  constructor(flag: string, address: string, port: number, cause: NodeJS.ErrnoException) {
    const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
    let fix = `choose another port, or ${flag} 0 to disable it`;
    if (cause.code === 'EACCES') fix = `ports below 1024 need root or CAP_NET_BIND_SERVICE; ${fix}`;
    if (cause.code === 'EADDRINUSE') fix = `another program is using it; ${fix}`;
    if (cause.code === 'EADDRNOTAVAIL') fix = `${address} is not an address of this machine; check --host`;
    super(`${flag}: cannot listen on ${where} (${cause.code ?? cause.message}): ${fix}`);
    this.flag = flag;
  }
}

const FLAG_OF_KIND: Record<ListenerKind, string> = {
  http: flagOf('httpPort'),
  https: flagOf('httpsPort'),
  udp: flagOf('udpPort'),
  'web-http': flagOf('webHttpPort'),
  'web-https': flagOf('webHttpsPort'),
};

/** The status Node itself would send for a request its parser refused. */
function clientErrorStatus(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

function bindAddresses(options: TrackerOptions): { address: string; family: 4 | 6 }[] {
  if (options.host !== null) return [{ address: options.host, family: isIPv6(options.host) ? 6 : 4 }];
  const addresses: { address: string; family: 4 | 6 }[] = [{ address: '0.0.0.0', family: 4 }];
  if (options.ipv6) addresses.push({ address: '::', family: 6 });
  return addresses;
}

function listenTcp(server: Server, kind: ListenerKind, address: string, port: number, ipv6Only: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(FLAG_OF_KIND[kind], address, port, err));
    server.once('error', onError);
    server.listen({ host: address, port, ipv6Only }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function bindUdp(socket: Socket, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(FLAG_OF_KIND.udp, address, port, err));
    socket.once('error', onError);
    socket.bind({ address, port }, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}

/** `:port` unless it is the scheme's default. */
function portSuffix(port: number, defaultPort: number): string {
  return port === defaultPort ? '' : `:${port}`;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** dgram's lookup for IP literals only: answers at once. */
function literalLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  void family;
  callback(null, address, isIPv6(address) ? 6 : 4);
}

interface Persistence {
  save(reason: string): Promise<void>;
  /** Stops the timer; saves a last time unless told not to. */
  stop(finalSave?: boolean): Promise<void>;
}

/** Loads --state-file now, then saves it every `intervalS` seconds and on stop. */
async function startPersistence(path: string, store: SwarmStore, clock: Clock, logger: Logger, peerTtl: number, intervalS: number): Promise<Persistence> {
  if (!isSnapshottable(store)) throw new ConfigError('--state-file', 'this store cannot be saved to a file');
  const folder = dirname(path);
  if (!existsSync(folder)) throw new ConfigError('--state-file', `the folder ${folder} does not exist (create it, or choose another path)`);
  let loaded: LoadResult;
  try {
    const stale = removeStaleTemporaries(path);
    for (const f of stale.failed) logger.warn({ stateFile: path, temporary: f.path, code: f.code }, 'cannot remove a temporary file an earlier save left behind');
    loaded = await loadState(path, store, clock.now(), peerTtl);
  } catch (err) {
    throw new ConfigError('--state-file', `cannot use ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (loaded.missing) logger.info({ stateFile: path }, 'no state file yet: starting with empty swarms');
  else if (loaded.setAsideTo !== null) {
    logger.error(
      { stateFile: path, setAsideTo: loaded.setAsideTo, torrents: loaded.torrents, peers: loaded.peers, badLines: loaded.badLines, truncated: loaded.damaged, unreadable: loaded.unreadable },
      loaded.unreadable !== null ? 'state file unreadable: set aside, starting with what was read' : 'state file damaged: its good part was loaded and the file set aside',
    );
  } else logger.info({ stateFile: path, torrents: loaded.torrents, peers: loaded.peers }, 'swarms loaded from the state file');

  let saving: Promise<void> | null = null;
  const save = (reason: string): Promise<void> => {
    // One save at a time: a second request waits for the one under way, then saves again.
    const run = async (): Promise<void> => {
      const started = Date.now();
      try {
        const r = await saveState(path, store, clock.now());
        logger.info({ stateFile: path, reason, torrents: r.torrents, bytes: r.bytes, ms: Date.now() - started }, 'state saved');
      } catch (err) {
        logger.error({ stateFile: path, err: (err as Error).message }, 'state save failed; the previous snapshot is unchanged');
      }
    };
    saving = (saving ?? Promise.resolve()).then(run);
    const mine = saving;
    void mine.then(() => {
      if (saving === mine) saving = null;
    });
    return mine;
  };
  const timer = setInterval(() => void save('interval'), intervalS * 1000);
  timer.unref();
  return {
    save,
    async stop(finalSave = true) {
      clearInterval(timer);
      if (finalSave) await save('shutdown');
      else await saving;
    },
  };
}

export async function startTracker(input: Partial<TrackerOptions> = {}, deps: TrackerDeps = {}): Promise<RunningTracker> {
  const options = resolveOptions(input);
  const tls: TlsMaterial | null = options.cert !== null && options.key !== null ? loadTlsMaterial(options.cert, options.key) : null;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(options.verbose);
  const warnings = new RateLimitedWarnings(logger, clock);
  const store = deps.store ?? new MemoryStore({ peerTtl: options.peerTtl, maxTorrents: options.maxTorrents });
  const limits: HttpLimits = { ...HTTP_LIMITS, ...deps.http };
  const persistence = options.stateFile === null ? null : await startPersistence(options.stateFile, store, clock, logger, options.peerTtl, options.stateInterval);
  const clients = new ClientAddressResolver(options.trustProxy);
  const service = new TrackerService(store, options, clock);
  const stats = new StatsCollector(clock);
  const connectionIds = new ConnectionIds(clock);
  const closer = new SocketCloser();
  const fdWatch = new FdWatch((open, limit) => {
    stats.acceptError();
    warnings.warn({ open, limit }, 'out of file descriptors: new connections are being dropped (raise LimitNOFILE, or lower --max-connections)');
  });
  const startedAt = clock.now();
  // Event-loop stalls are on the stats page: the first thing to look at when latency spikes.
  const loopDelay = new LoopDelayMonitor();
  loopDelay.start();
  const reloader = tls !== null && options.cert !== null && options.key !== null ? new CertificateReloader(options.cert, options.key, logger) : null;

  const listeners: ListenerInfo[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const trackerHandler = (protocol: 'http' | 'https'): Handler =>
    createHttpHandler({ protocol, service, stats, trackerId: options.trackerId, logger, warnings, verbose: options.verbose, clients });
  const domain = domainHost(options.domain);
  // Filled in once every listener is bound (ephemeral ports are known then).
  const announceUrls: AnnounceUrls = { udp: null, https: null, http: null };
  const statsHandler = createStatsHandler({
    collector: stats,
    store,
    clock,
    logger,
    trackerId: options.trackerId,
    version: VERSION,
    peerTtl: options.peerTtl,
    startedAt,
    announceUrls,
    loopDelay,
  });

  /**
   * Stops accepting, answers every request already received (with
   * `Connection: close`), gives connections that are open but not yet read a
   * moment to send their request, closes idle ones, and cuts whatever is
   * left after limits.drainMs.
   */
  let draining = false;
  let cutRequests = 0;
  const closeAll = async (): Promise<void> => {
    draining = true;
    reloader?.stop();
    await Promise.all([
      ...servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            const linger = setTimeout(() => s.closeIdleConnections(), DRAIN_LINGER_MS);
            const cut = setTimeout(() => s.closeAllConnections(), limits.drainMs);
            // net.Server#close only stops accepting; http.Server#close would also drop
            // connections whose request is on its way but not yet read.
            netServerClose.call(s, () => {
              clearTimeout(linger);
              clearTimeout(cut);
              s.close(() => resolve()); // clears http's own timers; the server is already closed
            });
          }),
      ),
      ...sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ]);
  };

  const serveTcp = async (kind: ListenerKind, port: number, address: string, family: 4 | 6, handler: Handler): Promise<void> => {
    const serverOptions = {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      // Request line and headers together; more is answered 431 by the parser.
      maxHeaderSize: 16 * 1024,
    };
    const secure = kind === 'https' || kind === 'web-https';
    const server: Server = secure
      ? createHttpsServer({ ...serverOptions, cert: tls!.cert, key: tls!.key, handshakeTimeout: limits.handshakeTimeoutMs }, handler)
      : createHttpServer(serverOptions, handler);
    if (secure) reloader!.add(server as unknown as TlsServer);
    server.maxConnections = options.maxConnections;
    // While shutting down, every reply ends its connection.
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (draining) res.shouldKeepAlive = false;
      // A request received but never fully answered: reported when the tracker stops.
      res.once('close', () => {
        if (!res.writableFinished) cutRequests++;
      });
    });
    server.setTimeout(limits.idleTimeoutMs, (socket) => closer.destroy(socket));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // A TLS failure was handled (logged once, destroyed) by the tlsClientError listener below.
      if (socket.destroyed) return;
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        logger.debug({ code: err.code, listener: kind }, 'client reset the connection');
        socket.destroy();
        return;
      }
      warnings.warn({ code: err.code, listener: kind }, 'malformed http request');
      closer.end(socket, `HTTP/1.1 ${clientErrorStatus(err.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    if (secure) {
      // First in line: https re-emits a TLS failure as clientError, whose reply a socket
      // without a finished handshake can never send (it would sit in CLOSE-WAIT forever).
      server.prependListener('tlsClientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
        stats.tlsFailure();
        warnings.warn({ code: err.code, listener: kind }, 'TLS handshake failed');
        socket.destroy();
      });
    }
    servers.push(server);
    const bound = await listenTcp(server, kind, address, port, family === 6);
    // After listening, the only errors are accept failures: the listener keeps going. (EMFILE
    // never gets here: libuv drops those connections itself; FdWatch reports it.)
    server.on('error', (err: NodeJS.ErrnoException) => {
      stats.acceptError();
      warnings.warn({ code: err.code, listener: kind, err: err.message }, 'accept failed');
    });
    listeners.push({ protocol: kind, family, address, port: bound });
  };

  const firstPort = (kind: ListenerKind): number | null => listeners.find((l) => l.protocol === kind)?.port ?? null;

  try {
    for (const { address, family } of bindAddresses(options)) {
      if (options.httpsPort !== null) await serveTcp('https', options.httpsPort, address, family, trackerHandler('https'));
      if (options.httpPort !== null) {
        const handler = options.redirectHttp ? createRedirectHandler(`https://${options.domain}`) : trackerHandler('http');
        await serveTcp('http', options.httpPort, address, family, handler);
      }
      if (options.udpPort !== null) {
        // Replies go to the IP literal a datagram came from: resolve it in place instead of
        // through dns.lookup, which defers every send by a tick.
        const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literalLookup });
        attachUdpHandler(socket, { service, stats, connectionIds, logger, warnings, verbose: options.verbose });
        sockets.push(socket);
        const port = await bindUdp(socket, address, options.udpPort);
        // Send failures under load (ENOBUFS, EAGAIN) must not flood the log.
        socket.on('error', (err: NodeJS.ErrnoException) => warnings.warn({ code: err.code, err: err.message }, 'udp socket error'));
        listeners.push({ protocol: 'udp', family, address, port });
      }
      if (options.webHttpsPort !== null) await serveTcp('web-https', options.webHttpsPort, address, family, statsHandler);
      if (options.webHttpPort !== null) {
        const websPort = firstPort('web-https');
        const handler = options.webRedirectHttp && websPort !== null ? createRedirectHandler(`https://${domain}${portSuffix(websPort, 443)}`) : statsHandler;
        await serveTcp('web-http', options.webHttpPort, address, family, handler);
      }
    }
  } catch (err) {
    await closeAll();
    await persistence?.stop(false);
    throw err;
  }
  const udpPort = firstPort('udp');
  const httpPort = firstPort('http');
  if (udpPort !== null) announceUrls.udp = `udp://${domain}:${udpPort}/announce`;
  if (firstPort('https') !== null) announceUrls.https = `https://${options.domain}/announce`;
  if (httpPort !== null && !options.redirectHttp) announceUrls.http = `http://${domain}${portSuffix(httpPort, 80)}/announce`;
  for (const l of listeners) logger.info({ protocol: l.protocol, address: l.address, port: l.port }, 'listening');
  reloader?.watch(deps.certWatchIntervalMs ?? CERT_WATCH_INTERVAL_MS);

  const sweeper = new Sweeper({ store, clock, logger });
  sweeper.start();
  fdWatch.start();

  return {
    options,
    listeners,
    store,
    stats,
    logger,
    port(protocol, family = 4) {
      const l = listeners.find((x) => x.protocol === protocol && x.family === family);
      if (l === undefined) throw new Error(`no ${protocol} listener for IPv${family}`);
      return l.port;
    },
    async sweepAll() {
      return (await store.sweep(clock.now(), Number.MAX_SAFE_INTEGER)).removed;
    },
    reloadCertificates() {
      if (reloader === null) {
        logger.info('reload requested: no TLS listener, nothing to reload');
        return false;
      }
      return reloader.reload('reload requested');
    },
    async close() {
      sweeper.stop();
      fdWatch.stop();
      loopDelay.stop();
      await closeAll();
      await persistence?.stop();
      logger.info({ cutRequests }, 'stopped');
    },
    async saveState() {
      if (persistence === null) throw new Error('no --state-file');
      await persistence.save('requested');
    },
  };
}
