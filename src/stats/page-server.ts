/**
 * The stats page server, apart from the tracker listeners: `/` (the page),
 * `/stats.json` (every figure on it), `/health` (for a load balancer or a
 * monitor), `/metrics`, and the page's own script, styles and icon. Nothing is loaded from elsewhere, so the page works offline and
 * tells no third party who looks at it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../protocol/errors.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/log.js';
import type { StoreTotals, SwarmStore, SwarmSummary } from '../store/store.js';
import type { ActivityFigures } from './collector.js';
import type { ActivitySource } from './snapshot.js';

export interface AnnounceUrls {
  udp: string | null;
  https: string | null;
  http: string | null;
  /** WebTorrent (browser) peers: wss:// on the HTTPS listener, ws:// on the HTTP one. */
  wss: string | null;
  ws: string | null;
}

export interface StatsJson extends ActivityFigures {
  tracker: {
    id: string;
    version: string;
    started_at: string;
    uptime_seconds: number;
    generated_at: string;
    peer_ttl: number;
    /** Event-loop delay of the last one to two minutes, ms: p99 and the worst. */
    event_loop_delay_p99_ms: number | null;
    event_loop_delay_max_ms: number | null;
    /** The worst event-loop delay since start, ms. */
    event_loop_delay_max_since_start_ms: number | null;
  };
  /** Connections that failed before a request: TLS handshakes, accept() errors (EMFILE). */
  connections: { tls_handshake_failures: number; accept_errors: number };
  /** Error replies since start, by error code (protocol/errors.ts). */
  error_replies: Partial<Record<ErrorCode, number>>;
  live: StoreTotals;
  announce_urls: AnnounceUrls;
  /** What this tracker keeps, and where (the page's footer says it). */
  storage: StorageInfo;
  top_swarms: { info_hash: string; peers: number; seeders: number; leechers: number; downloaded: number }[];
}

export interface StorageInfo {
  /** Where the swarms (peer ids, addresses, ports) live. */
  store: 'memory' | 'redis';
  /** Whether they are also written to a --state-file, and how often (seconds; null: none). */
  state_file: boolean;
  state_interval_seconds: number | null;
}

/** GET /health: every listener up and the store answering. */
export interface HealthReport {
  ok: boolean;
  /** Tracker listeners (or, with --workers, worker processes) up, of those expected. */
  listeners: { up: number; expected: number };
  store: 'memory' | 'ok' | 'unreachable';
}

export interface StatsPageContext {
  /** This process's activity, or every worker's together. */
  source: ActivitySource;
  store: SwarmStore;
  clock: Clock;
  logger: Logger;
  trackerId: string;
  version: string;
  peerTtl: number;
  startedAt: number;
  announceUrls: AnnounceUrls;
  /** /metrics (null: --no-metrics). */
  metrics: { render(): Promise<string>; contentType: string } | null;
  storage: StorageInfo;
  health(): Promise<HealthReport>;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const ASSETS: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/stats.js': ['stats.js', 'text/javascript; charset=utf-8'],
  '/stats.css': ['stats.css', 'text/css; charset=utf-8'],
  '/favicon.svg': ['favicon.svg', 'image/svg+xml'],
};

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [path, [file, type]] of Object.entries(ASSETS)) {
    const body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
    assets.set(path, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}

/** Headers on every stats page reply: no inline code, no third parties, no framing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function toHex(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('hex');
}

function swarm(s: SwarmSummary): StatsJson['top_swarms'][number] {
  return { info_hash: toHex(s.infoHash), peers: s.peers, seeders: s.complete, leechers: s.incomplete, downloaded: s.downloaded };
}

export async function buildStatsJson(ctx: StatsPageContext): Promise<StatsJson> {
  const now = ctx.clock.now();
  const [live, top, snap] = await Promise.all([ctx.store.totals(now), ctx.store.topSwarms(), ctx.source.snapshot()]);
  const loop = snap.loop;
  return {
    tracker: {
      id: ctx.trackerId,
      version: ctx.version,
      started_at: new Date(ctx.startedAt * 1000).toISOString(),
      uptime_seconds: Math.max(0, now - ctx.startedAt),
      generated_at: new Date(now * 1000).toISOString(),
      peer_ttl: ctx.peerTtl,
      event_loop_delay_p99_ms: loop?.recentP99Ms ?? null,
      event_loop_delay_max_ms: loop?.recentMaxMs ?? null,
      event_loop_delay_max_since_start_ms: loop?.maxSinceStartMs ?? null,
    },
    connections: snap.connections,
    error_replies: snap.errors,
    live,
    announce_urls: ctx.announceUrls,
    storage: ctx.storage,
    ...snap.activity,
    top_swarms: top.map(swarm),
  };
}

export function createStatsHandler(ctx: StatsPageContext): (req: IncomingMessage, res: ServerResponse) => void {
  const assets = loadAssets();

  function send(res: ServerResponse, status: number, type: string, body: Buffer | string, extra: Record<string, string> = {}): void {
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': payload.length, ...extra });
    res.end(payload);
  }

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (path === '/stats.json') {
      buildStatsJson(ctx).then(
        (stats) => send(res, 200, 'application/json; charset=utf-8', JSON.stringify(stats), { 'Cache-Control': 'no-store' }),
        (err: unknown) => {
          ctx.logger.error({ err }, 'stats.json failed');
          send(res, 500, 'application/json; charset=utf-8', '{"error":"internal error"}', { 'Cache-Control': 'no-store' });
        },
      );
      return;
    }
    if (path === '/health') {
      ctx.health().then(
        (h) => send(res, h.ok ? 200 : 503, 'application/json; charset=utf-8', JSON.stringify({ status: h.ok ? 'ok' : 'unavailable', listeners: h.listeners, store: h.store }) + '\n', { 'Cache-Control': 'no-store' }),
        (err: unknown) => {
          ctx.logger.error({ err }, 'health check failed');
          send(res, 503, 'application/json; charset=utf-8', '{"status":"unavailable"}\n', { 'Cache-Control': 'no-store' });
        },
      );
      return;
    }
    if (path === '/metrics' && ctx.metrics !== null) {
      const metrics = ctx.metrics;
      metrics.render().then(
        (text) => send(res, 200, metrics.contentType, text, { 'Cache-Control': 'no-store' }),
        (err: unknown) => {
          ctx.logger.error({ err }, 'metrics failed');
          send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', { 'Cache-Control': 'no-store' });
        },
      );
      return;
    }
    const asset = assets.get(path);
    if (asset === undefined) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', { 'Cache-Control': 'no-store' });
      return;
    }
    // Revalidate every time (cheap, ETag): an upgrade shows at once.
    const headers = { 'Cache-Control': 'no-cache', ETag: asset.etag };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
      res.end();
      return;
    }
    send(res, 200, asset.type, asset.body, headers);
  };
}
