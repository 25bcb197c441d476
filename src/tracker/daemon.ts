/**
 * Wires one swarm store, the TTL sweeper and every listener into one running
 * tracker, and takes it down again.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import { resolveOptions, type TrackerOptions } from './config.js';
import { ConnectionIds } from './connection-id.js';
import { createHttpHandler } from './http.js';
import { createLogger, RateLimitedWarnings, type Logger } from './log.js';
import { MemoryStore } from './memory-store.js';
import { TrackerService } from './service.js';
import type { SwarmStore } from './store.js';
import { attachUdpHandler } from './udp.js';

/** Torrents the sweeper visits per tick: bounds a tick's cost whatever the peer count. */
export const SWEEP_TORRENTS_PER_TICK = 2000;
export const SWEEP_TICK_MS = 1000;

export interface ListenerInfo {
  protocol: 'http' | 'udp';
  family: 4 | 6;
  address: string;
  port: number;
}

export interface TrackerDeps {
  clock?: Clock;
  logger?: Logger;
  store?: SwarmStore;
}

export interface RunningTracker {
  readonly options: TrackerOptions;
  readonly listeners: readonly ListenerInfo[];
  readonly store: SwarmStore;
  /** The bound port of the first listener of a protocol and family. */
  port(protocol: 'http' | 'udp', family?: 4 | 6): number;
  /** One complete sweeper pass now (tests; the timer does it in slices). */
  sweepAll(): Promise<number>;
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

function listenHttp(server: Server, address: string, port: number, ipv6Only: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError('--http-port', address, port, err));
    server.once('error', onError);
    server.listen({ host: address, port, ipv6Only }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function bindUdp(socket: Socket, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError('--udp-port', address, port, err));
    socket.once('error', onError);
    socket.bind({ address, port }, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}

export async function startTracker(input: Partial<TrackerOptions> = {}, deps: TrackerDeps = {}): Promise<RunningTracker> {
  const options = resolveOptions(input);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(options.verbose);
  const warnings = new RateLimitedWarnings(logger, clock);
  const store = deps.store ?? new MemoryStore({ peerTtl: options.peerTtl });
  const service = new TrackerService(store, options, clock);
  const connectionIds = new ConnectionIds(clock);

  const listeners: ListenerInfo[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const handler = createHttpHandler({ service, trackerId: options.trackerId, logger, warnings, verbose: options.verbose });

  const closeAll = async (): Promise<void> => {
    await Promise.all([
      ...servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
      ...sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ]);
  };

  try {
    for (const { address, family } of bindAddresses(options)) {
      if (options.httpPort !== null) {
        const server = createServer({ requestTimeout: 15_000, headersTimeout: 10_000, keepAliveTimeout: 30_000 }, handler);
        server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
          warnings.warn({ code: err.code }, 'malformed http request');
          if (!socket.writable || err.code === 'ECONNRESET') {
            socket.destroy();
            return;
          }
          socket.end(`HTTP/1.1 ${clientErrorStatus(err.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        });
        servers.push(server);
        const port = await listenHttp(server, address, options.httpPort, family === 6);
        listeners.push({ protocol: 'http', family, address, port });
      }
      if (options.udpPort !== null) {
        const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
        attachUdpHandler(socket, { service, connectionIds, logger, warnings, verbose: options.verbose });
        sockets.push(socket);
        const port = await bindUdp(socket, address, options.udpPort);
        socket.on('error', (err) => logger.error({ err }, 'udp socket error'));
        listeners.push({ protocol: 'udp', family, address, port });
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  for (const l of listeners) logger.info({ protocol: l.protocol, address: l.address, port: l.port }, 'listening');

  const sweeper = setInterval(() => {
    const removed = store.sweep(clock.now(), SWEEP_TORRENTS_PER_TICK);
    if (removed instanceof Promise) removed.catch((err: unknown) => logger.error({ err }, 'sweep failed'));
  }, SWEEP_TICK_MS);
  sweeper.unref();

  return {
    options,
    listeners,
    store,
    port(protocol, family = 4) {
      const l = listeners.find((x) => x.protocol === protocol && x.family === family);
      if (l === undefined) throw new Error(`no ${protocol} listener for IPv${family}`);
      return l.port;
    },
    async sweepAll() {
      return store.sweep(clock.now(), Number.MAX_SAFE_INTEGER);
    },
    async close() {
      clearInterval(sweeper);
      await closeAll();
      logger.info('stopped');
    },
  };
}
