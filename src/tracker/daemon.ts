/**
 * Wiring only: builds the store from configuration, the service, the events
 * sink (stats), the listeners (tracker HTTP/HTTPS/UDP, stats page), the
 * sweeper and the state file, and takes them down again in order.
 */
import { createSocket, type Socket } from 'node:dgram';
import { ClientAddressResolver } from '../frontend/client-address.js';
import { ConnectionIds } from '../frontend/connection-id.js';
import { createHttpHandler, createRedirectHandler } from '../frontend/http.js';
import { HTTP_LIMITS, HttpServers, type Handler, type HttpLimits } from '../frontend/http-server.js';
import { bindAddresses, bindUdp, literalLookup, type ListenerInfo, type ListenerKind } from '../frontend/listen.js';
import { CertificateReloader, loadTlsMaterial, type TlsMaterial } from '../frontend/tls.js';
import { attachUdpHandler } from '../frontend/udp.js';
import { refuseUpgrade, WebSocketFrontend, WS_LIMITS, WS_MAX_INTERVAL, type WsLimits } from '../frontend/websocket.js';
import { StoreWithWsPeers } from '../service/store-with-ws-peers.js';
import { WsSwarms } from '../service/ws-swarms.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Transport } from '../protocol/types.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { domainHost, resolveOptions, servesBrowserPeers, type TrackerOptions } from '../runtime/config.js';
import { FdWatch } from '../runtime/fd-watch.js';
import { createLogger, logLevelOf, RateLimitedWarnings, type Logger } from '../runtime/log.js';
import { LoopDelayMonitor } from '../runtime/loop-delay.js';
import { VERSION } from '../runtime/version.js';
import type { AccessList } from '../service/access-list.js';
import { AccessListFile } from '../service/access-list-file.js';
import { TrackerService, whenReady } from '../service/service.js';
import { StatsCollector } from '../stats/collector.js';
import { createStatsHandler, type AnnounceUrls } from '../stats/page-server.js';
import { TrackerMetrics } from '../stats/metrics.js';
import { MinuteReport } from '../stats/minute-report.js';
import { localSource, type ActivitySnapshot, type ActivitySource } from '../stats/snapshot.js';
import { MemoryStore } from '../store/memory-store.js';
import { RedisStore } from '../store/redis-store.js';
import { redactUrl } from '../store/redis-connection.js';
import { startPersistence } from '../store/persistence.js';
import type { SwarmStore } from '../store/store.js';
import { Sweeper } from '../store/sweeper.js';

export { ListenError, type ListenerInfo, type ListenerKind } from '../frontend/listen.js';
export { HTTP_LIMITS, type HttpLimits } from '../frontend/http-server.js';

export const CERT_WATCH_INTERVAL_MS = 10_000;

export interface TrackerDeps {
  clock?: Clock;
  logger?: Logger;
  store?: SwarmStore;
  /** How often to look for a renewed certificate or a changed access list on disk. */
  certWatchIntervalMs?: number;
  /** HTTP timeouts (tests shorten them). */
  http?: Partial<HttpLimits>;
  /**
   * What this process does: everything (`all`, one process), or, with
   * --workers, a `worker` (tracker listeners only) or the primary's `stats`
   * part (stats page and sweeper, activity from every worker via `source`).
   */
  role?: 'all' | 'worker' | 'stats';
  source?: ActivitySource;
  /** Seed of the distinct-address counters (workers share one, so their counts merge). */
  statsSeed?: number;
  /** Key of the UDP connection ids (workers share one: a connect answered by one is valid at the others). */
  connectionSecret?: Uint8Array;
  /** How often the "the last minute" line may be logged (tests shorten it). */
  reportIntervalMs?: number;
  /** WebSocket limits (tests lower them). */
  wsLimits?: Partial<WsLimits>;
  /** With --workers (role `stats`): how many workers are up, of how many (GET /health). */
  workersUp?: () => { up: number; expected: number };
}

export interface RunningTracker {
  readonly options: TrackerOptions;
  readonly listeners: readonly ListenerInfo[];
  readonly store: SwarmStore;
  readonly stats: StatsCollector;
  readonly logger: Logger;
  /** This process's activity (a worker hands it to the primary). */
  snapshot(): ActivitySnapshot;
  /** The bound port of the first listener of a kind and family. */
  port(protocol: ListenerKind, family?: 4 | 6): number;
  /** One complete sweeper pass now (tests; the timer does it in slices). */
  sweepAll(): Promise<number>;
  /** Writes the --state-file now. */
  saveState(): Promise<void>;
  /** Loads --cert/--key again; false when it failed or there is no TLS. */
  reloadCertificates(): boolean;
  /** SIGHUP: the certificate and the access list, loaded again. */
  reload(): void;
  /** The access list in force (null: none). */
  readonly access: AccessListFile | null;
  close(): Promise<void>;
}

/** A store the tracker opened, and how to let it go. */
export interface OpenedStore {
  store: SwarmStore;
  /** null: nothing to ask (the memory store); else whether the shared store answers. */
  healthy: (() => Promise<boolean>) | null;
  close(): Promise<void>;
}

/** The one place the store is chosen from configuration. */
export async function createStore(options: TrackerOptions, logger: Logger): Promise<OpenedStore> {
  if (options.store === 'memory') {
    return { store: new MemoryStore({ peerTtl: options.peerTtl, maxTorrents: options.maxTorrents }), healthy: null, close: () => Promise.resolve() };
  }
  const store = await RedisStore.open({ url: options.store, peerTtl: options.peerTtl, maxTorrents: options.maxTorrents, logger });
  return { store, healthy: () => store.ping(), close: () => store.close() };
}

/** `:port` unless it is the scheme's default. */
function portSuffix(port: number, defaultPort: number): string {
  return port === defaultPort ? '' : `:${port}`;
}

export async function startTracker(input: Partial<TrackerOptions> = {}, deps: TrackerDeps = {}): Promise<RunningTracker> {
  const options = resolveOptions(input);
  // A certificate no listener serves is neither read nor reloaded (a warning below says so).
  const httpsWanted = options.httpsPort !== null || options.webHttpsPort !== null;
  const tls: TlsMaterial | null = httpsWanted && options.cert !== null && options.key !== null ? loadTlsMaterial(options.cert, options.key) : null;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(logLevelOf(options));
  const warnings = new RateLimitedWarnings(logger, clock);
  const role = deps.role ?? 'all';
  // Said once: with --workers by the primary (role `stats`), not again by every worker.
  if (role !== 'worker' && !httpsWanted && (options.cert !== null || options.key !== null)) {
    logger.warn('--cert/--key given without --https-port or --web-https-port: no HTTPS listener, the certificate is not used');
  }
  const opened: OpenedStore = deps.store !== undefined ? { store: deps.store, healthy: null, close: () => Promise.resolve() } : await createStore(options, logger);
  // Browser (WebSocket) peers live in this process: one tracker process on the memory store (README, "WebTorrent").
  const websocket = servesBrowserPeers(options) && role === 'all';
  const wsSwarms = websocket ? new WsSwarms({ maxSwarmsPerConn: deps.wsLimits?.maxSwarms ?? WS_LIMITS.maxSwarms, peerTtl: options.peerTtl, maxSwarms: options.maxTorrents }) : null;
  const baseStore = opened.store;
  const store: SwarmStore = wsSwarms === null ? baseStore : new StoreWithWsPeers(baseStore, wsSwarms, clock);
  const limits: HttpLimits = { ...HTTP_LIMITS, ...deps.http };
  // Filled in once the metrics exist (the state file is loaded before anything else starts).
  let onSaved: ((seconds: number) => void) | undefined;
  const persistence =
    options.stateFile === null
      ? null
      : await startPersistence(options.stateFile, baseStore, clock, logger, options.peerTtl, options.stateInterval, (seconds) => onSaved?.(seconds));
  const clients = new ClientAddressResolver(options.trustProxy);
  const listPath = options.allowList ?? options.denyList;
  let access: AccessListFile | null = null;
  try {
    access = listPath === null ? null : new AccessListFile(listPath, options.allowList !== null ? 'allow' : 'deny', logger);
  } catch (err) {
    await persistence?.stop(false);
    await opened.close();
    throw err;
  }
  const service = new TrackerService(store, options, clock, access);
  const stats = new StatsCollector(clock, deps.statsSeed);
  const connectionIds = new ConnectionIds(clock, deps.connectionSecret);
  const events = stats;
  const fdWatch = new FdWatch((open, limit) => {
    events.connectionFailed('accept');
    warnings.warn({ open, limit }, 'out of file descriptors: new connections are being dropped (raise LimitNOFILE, or lower --max-connections)');
  });
  const startedAt = clock.now();
  // Event-loop stalls are on the stats page: the first thing to look at when latency spikes.
  const loopDelay = new LoopDelayMonitor();
  loopDelay.start();
  const reloader = tls !== null && options.cert !== null && options.key !== null ? new CertificateReloader(options.cert, options.key, logger) : null;

  const listeners: ListenerInfo[] = [];
  /** UDP sockets bound and not closed. */
  const udpUp = new Set<Socket>();
  const wsFrontend =
    wsSwarms === null ? null : new WebSocketFrontend({ service, swarms: wsSwarms, events, clock, logger, warnings, interval: Math.min(options.interval, WS_MAX_INTERVAL), ...(deps.wsLimits !== undefined && { limits: deps.wsLimits }) });
  const http = new HttpServers({
    limits,
    tls,
    reloader,
    maxConnections: options.maxConnections,
    events,
    logger,
    warnings,
    ...(wsFrontend !== null && {
      upgrade: (kind: ListenerKind, req: IncomingMessage, socket: Duplex, head: Buffer) => {
        // --redirect-http sends HTTP clients to HTTPS; a browser does not follow a WebSocket redirect, so say where to go.
        if (kind === 'http' && options.redirectHttp) {
          refuseUpgrade(socket, '403 Forbidden', `use wss://${options.domain}/announce\n`);
          return;
        }
        wsFrontend.upgrade(kind === 'https' ? 'wss' : 'ws', req, socket, head);
      },
    }),
  });
  const sockets: Socket[] = [];
  const trackerHandler = (transport: Transport): Handler =>
    createHttpHandler({ transport, service, events, trackerId: options.trackerId, logger, warnings, verbose: options.verbose, clients });
  const domain = domainHost(options.domain);
  // Filled in once every listener is bound (ephemeral ports are known then).
  const announceUrls: AnnounceUrls = { udp: null, https: null, http: null, wss: null, ws: null };
  const certificates = (): { listener: string; notAfter: number }[] => {
    if (tls === null) return [];
    const notAfter = reloader !== null && reloader.notAfter > 0 ? reloader.notAfter : tls.notAfter;
    const out: { listener: string; notAfter: number }[] = [];
    if (options.httpsPort !== null) out.push({ listener: 'https', notAfter });
    if (options.webHttpsPort !== null) out.push({ listener: 'web-https', notAfter });
    return out;
  };
  // Observing every reply is work on the hot path: only when a stats page listener (this process's, or with --workers the primary's) can serve /metrics.
  const metricsServed = options.metrics && (options.webHttpPort !== null || options.webHttpsPort !== null);
  const metrics = metricsServed
    ? new TrackerMetrics(role, { collector: stats, store, clock, loopDelay, certificates, access: access === null ? null : () => access!.status() })
    : null;
  onSaved = metrics === null ? undefined : (seconds) => metrics.observeStateSave(seconds);
  const local = localSource(stats, loopDelay);
  const statsHandler = createStatsHandler({
    source: deps.source ?? local,
    store,
    clock,
    logger,
    trackerId: options.trackerId,
    version: VERSION,
    peerTtl: options.peerTtl,
    startedAt,
    announceUrls,
    metrics,
    storage: {
      store: options.store === 'memory' ? 'memory' : 'redis',
      state_file: options.stateFile !== null,
      state_interval_seconds: options.stateFile !== null ? options.stateInterval : null,
    },
    health: async () => {
      const expected = listeners.filter((l) => l.protocol === 'http' || l.protocol === 'https' || l.protocol === 'udp').length;
      const listenersUp = deps.workersUp?.() ?? { up: http.up(['http', 'https']) + udpUp.size, expected };
      const store = opened.healthy === null ? 'memory' : (await opened.healthy()) ? 'ok' : 'unreachable';
      return { ok: listenersUp.up === listenersUp.expected && store !== 'unreachable', listeners: listenersUp, store };
    },
  });

  const closeAll = async (): Promise<void> => {
    reloader?.stop();
    wsFrontend?.close();
    await Promise.all([http.drain(), ...sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))]);
  };

  const serveTcp = async (kind: ListenerKind, port: number, address: string, family: 4 | 6, handler: Handler): Promise<void> => {
    const bound = await http.listen(kind, address, port, family, handler);
    listeners.push({ protocol: kind, family, address, port: bound });
  };

  const firstPort = (kind: ListenerKind): number | null => listeners.find((l) => l.protocol === kind)?.port ?? null;

  try {
    const tracking = role !== 'stats';
    const paging = role !== 'worker';
    for (const { address, family } of bindAddresses(options)) {
      if (tracking && options.httpsPort !== null) await serveTcp('https', options.httpsPort, address, family, trackerHandler('https'));
      if (tracking && options.httpPort !== null) {
        const handler = options.redirectHttp ? createRedirectHandler(`https://${options.domain}`) : trackerHandler('http');
        await serveTcp('http', options.httpPort, address, family, handler);
      }
      if (tracking && options.udpPort !== null) {
        // Replies go to the IP literal a datagram came from: resolve it in place instead of
        // through dns.lookup, which defers every send by a tick.
        const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literalLookup });
        attachUdpHandler(socket, { service, events, connectionIds, logger, warnings, verbose: options.verbose });
        sockets.push(socket);
        const port = await bindUdp(socket, address, options.udpPort);
        udpUp.add(socket);
        socket.once('close', () => udpUp.delete(socket));
        // Send failures under load (ENOBUFS, EAGAIN) must not flood the log.
        socket.on('error', (err: NodeJS.ErrnoException) => warnings.warn({ code: err.code, err: err.message }, 'udp socket error'));
        listeners.push({ protocol: 'udp', family, address, port });
      }
      if (paging && options.webHttpsPort !== null) await serveTcp('web-https', options.webHttpsPort, address, family, statsHandler);
      if (paging && options.webHttpPort !== null) {
        const websPort = firstPort('web-https');
        const handler = options.webRedirectHttp && websPort !== null ? createRedirectHandler(`https://${domain}${portSuffix(websPort, 443)}`) : statsHandler;
        await serveTcp('web-http', options.webHttpPort, address, family, handler);
      }
    }
  } catch (err) {
    await closeAll();
    await persistence?.stop(false);
    await opened.close();
    throw err;
  }
  // The primary's stats part binds no tracker port: its workers listen on the configured ones.
  const trackerPort = (kind: 'udp' | 'http' | 'https', configured: number | null): number | null => (role === 'stats' ? configured : firstPort(kind));
  const udpPort = trackerPort('udp', options.udpPort);
  const httpPort = trackerPort('http', options.httpPort);
  if (udpPort !== null) announceUrls.udp = `udp://${domain}:${udpPort}/announce`;
  if (trackerPort('https', options.httpsPort) !== null) announceUrls.https = `https://${options.domain}/announce`;
  if (httpPort !== null && !options.redirectHttp) announceUrls.http = `http://${domain}${portSuffix(httpPort, 80)}/announce`;
  if (websocket && trackerPort('https', options.httpsPort) !== null) announceUrls.wss = `wss://${options.domain}/announce`;
  if (websocket && httpPort !== null && !options.redirectHttp) announceUrls.ws = `ws://${domain}${portSuffix(httpPort, 80)}/announce`;
  // A worker's listeners are the primary's to report (once, not once per worker).
  if (role !== 'worker') {
    for (const l of listeners) logger.info({ protocol: l.protocol, address: l.address, port: l.port }, 'listening');
    logger.info({ store: redactUrl(options.store) }, options.store === 'memory' ? 'swarms kept in this process' : 'swarms kept in redis, shared with every tracker using it');
    if (options.websocket && !websocket) logger.info('WebSocket (browser) peers are off: they need one tracker process on the memory store (--store memory, no --workers)');
  }
  reloader?.watch(deps.certWatchIntervalMs ?? CERT_WATCH_INTERVAL_MS);
  if (access !== null) {
    // Workers share a store: the primary drops the swarms a new list refuses, once for all of them.
    const dropRefused = (list: AccessList, reason: string): void => {
      if (role === 'worker') return;
      const done = whenReady(store.dropTorrents((h) => list.refuses(h) !== null, clock.now()), (dropped) => {
        if (dropped > 0) logger.info({ dropped, reason }, 'swarms dropped: the access list refuses them');
      });
      if (done instanceof Promise) done.catch((err: unknown) => logger.error({ err }, 'dropping refused swarms failed'));
    };
    access.onReload = (list) => dropRefused(list, 'access list reloaded');
    // Swarms loaded from a state file may predate the list.
    dropRefused(access.current, 'start');
    access.watch(deps.certWatchIntervalMs ?? CERT_WATCH_INTERVAL_MS);
  }

  // Workers share one store: the primary sweeps it for all of them.
  const reloadCertificates = (): boolean => {
    if (reloader === null) {
      logger.info('reload requested: no TLS listener, nothing to reload');
      return false;
    }
    return reloader.reload('reload requested');
  };

  // The primary reports for every worker (its source merges them); a worker reports nothing itself.
  const minuteReport = role === 'worker' ? null : new MinuteReport(deps.source ?? local, store, clock, logger);
  minuteReport?.start(deps.reportIntervalMs);
  const sweeper = new Sweeper({ store, clock, logger, ...(metrics !== null && { onSlice: (ms: number) => metrics.observeSweepSlice(ms) }) });
  if (role !== 'worker') sweeper.start();
  fdWatch.start();

  return {
    options,
    listeners,
    store,
    stats,
    logger,
    snapshot: () => local.snapshot() as ActivitySnapshot,
    port(protocol, family = 4) {
      const l = listeners.find((x) => x.protocol === protocol && x.family === family);
      if (l === undefined) throw new Error(`no ${protocol} listener for IPv${family}`);
      return l.port;
    },
    async sweepAll() {
      return (await store.sweep(clock.now(), Number.MAX_SAFE_INTEGER)).removed;
    },
    reloadCertificates,
    access,
    reload() {
      reloadCertificates();
      access?.reload('reload requested');
    },
    async close() {
      minuteReport?.stop();
      access?.stop();
      sweeper.stop();
      fdWatch.stop();
      loopDelay.stop();
      await closeAll();
      await persistence?.stop();
      await opened.close();
      logger.info({ cutRequests: http.cutRequests }, 'stopped');
    },
    async saveState() {
      if (persistence === null) throw new Error('no --state-file');
      await persistence.save('requested');
    },
  };
}
