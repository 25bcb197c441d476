/**
 * Every tracker option in one typed object, its defaults (the seed's CLI
 * contract) and validation that names the offending flag.
 */
import { Address4, Address6 } from 'ip-address';
import { LOG_LEVELS, type LogLevel } from './log.js';

/** A --trust-proxy entry: an address or a CIDR block. Throws ConfigError naming the flag. */
export function parseCidr(text: string): Address4 | Address6 {
  try {
    return text.includes(':') ? new Address6(text) : new Address4(text);
  } catch {
    throw new ConfigError('--trust-proxy', `not an IP address or CIDR block: ${JSON.stringify(text)}`);
  }
}

export interface TrackerOptions {
  /** HTTP tracker port; null disables, 0 picks a free port (tests). */
  httpPort: number | null;
  /** UDP tracker port; null disables, 0 picks a free port (tests). */
  udpPort: number | null;
  /** Bind address; null = all interfaces (0.0.0.0, and :: with ipv6). */
  host: string | null;
  /** Also listen on IPv6 (::) beside IPv4. */
  ipv6: boolean;
  trackerId: string;
  /** Announce interval, seconds. */
  interval: number;
  /** Minimum re-announce interval, seconds. */
  minInterval: number;
  /** Seconds without an announce before a peer is purged. */
  peerTtl: number;
  /** Most peers returned per announce. */
  maxPeers: number;
  /** Most info_hashes per scrape request. */
  maxScrapeHashes: number;
  /** Allow scrape without info_hash. */
  fullScrape: boolean;
  /** Log request and response payloads at debug level. */
  verbose: boolean;
  /** Least severe level logged (info: starts, stops, outages, warnings, one summary line a minute). */
  logLevel: LogLevel;
  /** HTTPS tracker port; null disables (the default). */
  httpsPort: number | null;
  /** PEM certificate chain (fullchain) and private key, for every TLS listener. */
  cert: string | null;
  key: string | null;
  /** Answer tracker HTTP requests with a redirect to https://<domain>. */
  redirectHttp: boolean;
  /** Public host name, with :port when the HTTPS port is not 443. */
  domain: string;
  /** Stats page HTTP port; null disables. */
  webHttpPort: number | null;
  /** Stats page HTTPS port; null disables (the default). */
  webHttpsPort: number | null;
  /** Redirect the stats page's HTTP to its HTTPS port. */
  webRedirectHttp: boolean;
  /** Most torrents held; an announce for a new torrent beyond it is refused. */
  maxTorrents: number;
  /** Most open TCP connections per HTTP(S) listener. */
  maxConnections: number;
  /** Proxies (CIDRs) whose X-Forwarded-For / X-Real-IP are believed. */
  trustProxy: string[];
  /** Where swarms are saved across restarts; null: not saved. */
  stateFile: string | null;
  /** Seconds between state saves (also saved on SIGTERM/SIGINT). */
  stateInterval: number;
  /** Where swarms live: `memory` (this process) or `redis://…` / `rediss://…` (shared by several trackers). */
  store: string;
  /** Worker processes sharing the ports (needs a shared store). */
  workers: number;
  /** Only the info hashes in this file are tracked (null: any). */
  allowList: string | null;
  /** The info hashes in this file are refused (null: none). */
  denyList: string | null;
  /** Serve /metrics (Prometheus) on the stats page listeners. */
  metrics: boolean;
  /** Accept WebSocket (WebTorrent browser) peers on the tracker's HTTP and HTTPS listeners. */
  websocket: boolean;
}

export const DEFAULT_OPTIONS: Readonly<TrackerOptions> = {
  httpPort: 6969,
  udpPort: 6969,
  host: null,
  ipv6: false,
  trackerId: 'Wildkat',
  interval: 1800,
  minInterval: 60,
  peerTtl: 3600,
  maxPeers: 200,
  maxScrapeHashes: 5,
  fullScrape: false,
  verbose: false,
  logLevel: 'info',
  httpsPort: null,
  cert: null,
  key: null,
  redirectHttp: false,
  domain: 'localhost',
  webHttpPort: 80,
  webHttpsPort: null,
  webRedirectHttp: false,
  // A flood of distinct info_hashes costs ~300 bytes per torrent: 500,000 bounds it near 150 MiB.
  maxTorrents: 500_000,
  maxConnections: 8192,
  trustProxy: [],
  stateFile: null,
  stateInterval: 300,
  store: 'memory',
  workers: 1,
  allowList: null,
  denyList: null,
  metrics: true,
  websocket: true,
};

/** A bad option: `flag` names it as the operator typed it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.flag = flag;
  }
}

const FLAGS: Record<keyof TrackerOptions, string> = {
  httpPort: '--http-port',
  udpPort: '--udp-port',
  host: '--host',
  ipv6: '--ipv6',
  trackerId: '--tracker-id',
  interval: '--interval',
  minInterval: '--min-interval',
  peerTtl: '--peer-ttl',
  maxPeers: '--max-peers',
  maxScrapeHashes: '--max-scrape-hashes',
  fullScrape: '--full-scrape',
  verbose: '--verbose',
  logLevel: '--log-level',
  httpsPort: '--https-port',
  cert: '--cert',
  key: '--key',
  redirectHttp: '--redirect-http',
  domain: '--domain',
  webHttpPort: '--web-http-port',
  webHttpsPort: '--web-https-port',
  webRedirectHttp: '--web-redirect-http',
  maxTorrents: '--max-torrents',
  maxConnections: '--max-connections',
  trustProxy: '--trust-proxy',
  stateFile: '--state-file',
  stateInterval: '--state-interval',
  store: '--store',
  workers: '--workers',
  allowList: '--allow-list',
  denyList: '--deny-list',
  metrics: '--no-metrics',
  websocket: '--no-websocket',
};

export function flagOf(key: keyof TrackerOptions): string {
  return FLAGS[key];
}

function checkInteger(key: keyof TrackerOptions, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(FLAGS[key], `must be a whole number from ${min} to ${max}, got ${value}`);
  }
}

/** Applies defaults and checks every option; throws ConfigError naming the flag. */
export function resolveOptions(input: Partial<TrackerOptions>): TrackerOptions {
  const o: TrackerOptions = { ...DEFAULT_OPTIONS };
  for (const key of Object.keys(input) as (keyof TrackerOptions)[]) {
    if (input[key] !== undefined) (o as unknown as Record<string, unknown>)[key] = input[key];
  }
  for (const key of ['httpPort', 'udpPort', 'httpsPort', 'webHttpPort', 'webHttpsPort'] as const) {
    const port = o[key];
    if (port !== null) checkInteger(key, port, 0, 65535);
  }
  if (o.httpPort === null && o.udpPort === null && o.httpsPort === null) {
    throw new ConfigError('--http-port', '--http-port, --https-port and --udp-port are all disabled: no tracker would listen');
  }
  // The tracker and the stats page are different servers: one TCP port each (UDP may share a number with TCP).
  const tcp = (['httpPort', 'httpsPort', 'webHttpPort', 'webHttpsPort'] as const).filter((k) => o[k] !== null && o[k] !== 0);
  for (let i = 0; i < tcp.length; i++) {
    for (let j = i + 1; j < tcp.length; j++) {
      const [a, b] = [tcp[i]!, tcp[j]!];
      if (o[a] === o[b]) throw new ConfigError(FLAGS[b], `port ${o[b]} is also ${FLAGS[a]}: each TCP listener needs a port of its own (UDP may share one with TCP)`);
    }
  }
  const tlsUser = o.httpsPort !== null ? '--https-port' : o.webHttpsPort !== null ? '--web-https-port' : null;
  if (tlsUser !== null) {
    if (o.cert === null) throw new ConfigError('--cert', `${tlsUser} needs a certificate: give --cert PATH (PEM fullchain)`);
    if (o.key === null) throw new ConfigError('--key', `${tlsUser} needs a private key: give --key PATH (PEM)`);
  }
  if (o.redirectHttp && o.httpsPort === null) {
    throw new ConfigError('--redirect-http', 'needs --https-port: there is no HTTPS tracker to redirect to');
  }
  if (o.webRedirectHttp && o.webHttpsPort === null) {
    throw new ConfigError('--web-redirect-http', 'needs --web-https-port: there is no HTTPS stats page to redirect to');
  }
  if (!/^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(:[0-9]{1,5})?$/.test(o.domain) && !/^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/.test(o.domain)) {
    throw new ConfigError('--domain', `not a host name with an optional :port: ${JSON.stringify(o.domain)}`);
  }
  if (o.host !== null && !Address4.isValid(o.host) && !Address6.isValid(o.host)) {
    throw new ConfigError('--host', `not an IP address: ${JSON.stringify(o.host)}`);
  }
  if (o.trackerId.length === 0 || o.trackerId.length > 64) {
    throw new ConfigError('--tracker-id', 'must be 1 to 64 characters');
  }
  const DAY = 86_400;
  checkInteger('interval', o.interval, 1, DAY);
  checkInteger('minInterval', o.minInterval, 0, DAY);
  if (o.minInterval > o.interval) {
    throw new ConfigError('--min-interval', `must not exceed --interval (${o.interval}), got ${o.minInterval}`);
  }
  checkInteger('peerTtl', o.peerTtl, 1, 7 * DAY);
  checkInteger('maxPeers', o.maxPeers, 0, 10_000);
  checkInteger('maxScrapeHashes', o.maxScrapeHashes, 1, 10_000);
  checkInteger('maxTorrents', o.maxTorrents, 1, 100_000_000);
  checkInteger('maxConnections', o.maxConnections, 1, 1_000_000);
  checkInteger('stateInterval', o.stateInterval, 1, DAY);
  if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel)) {
    throw new ConfigError('--log-level', `one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(o.logLevel)}`);
  }
  for (const cidr of o.trustProxy) parseCidr(cidr);
  checkStore(o);
  if (o.allowList !== null && o.denyList !== null) {
    throw new ConfigError('--deny-list', 'give --allow-list or --deny-list, not both: with an allow list only its hashes are tracked anyway');
  }
  return o;
}

/** Browser (WebSocket) peers live in one process: the tracker serves them only on the memory store without --workers (README, "WebTorrent"). */
export function servesBrowserPeers(options: TrackerOptions): boolean {
  return options.websocket && !isSharedStore(options.store) && options.workers <= 1;
}

/** True when swarms live in a store several processes share. */
export function isSharedStore(store: string): boolean {
  return store !== 'memory';
}

function checkStore(o: TrackerOptions): void {
  if (o.store !== 'memory') {
    let url: URL;
    try {
      url = new URL(o.store);
    } catch {
      throw new ConfigError('--store', `not "memory" or a redis:// URL: ${JSON.stringify(o.store)}`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new ConfigError('--store', `"memory", redis://[user:password@]host:port[/db] or rediss://… (TLS), got ${url.protocol}//…`);
    }
    if (url.hostname === '') throw new ConfigError('--store', 'the Redis URL has no host: redis://host:port');
    if (o.stateFile !== null) {
      throw new ConfigError('--state-file', 'not used with --store redis://…: Redis keeps the swarms (turn on its own persistence, appendonly yes, to keep them across a Redis restart)');
    }
  }
  checkInteger('workers', o.workers, 1, 256);
  if (o.workers > 1 && !isSharedStore(o.store)) {
    throw new ConfigError('--workers', `${o.workers} processes need one shared store: give --store redis://host:port as well (with the memory store each process would see only its own peers)`);
  }
}

/** The host part of --domain (no port, IPv6 brackets kept). */
export function domainHost(domain: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(:[0-9]+)?$/.exec(domain);
  return m === null ? domain : m[1]!;
}
