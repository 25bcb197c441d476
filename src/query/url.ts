/** Tracker URLs: parsing, the BEP 48 scrape URL, and BEP 41 URL data for UDP. */
import { UsageError } from './errors.js';

export type Transport = 'http' | 'https' | 'udp';

export interface TrackerUrl {
  transport: Transport;
  /** Host as written, without IPv6 brackets. */
  host: string;
  port: number;
  /** Path and query as written ("/announce?passkey=…"). */
  pathAndQuery: string;
  /** The URL as given, for reports. */
  href: string;
}

const DEFAULT_PORTS: Record<Transport, number> = { http: 80, https: 443, udp: 80 };

export function parseTrackerUrl(text: string, flag = '-t'): TrackerUrl {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`${flag}: not a URL: ${JSON.stringify(text)}`);
  }
  const transport = url.protocol.slice(0, -1);
  if (transport !== 'http' && transport !== 'https' && transport !== 'udp') {
    throw new UsageError(`${flag}: unsupported scheme ${JSON.stringify(url.protocol)}: use http://, https:// or udp://`);
  }
  if (url.hostname === '') throw new UsageError(`${flag}: no host in ${JSON.stringify(text)}`);
  if (transport === 'udp' && url.port === '') throw new UsageError(`${flag}: a udp:// URL needs a port, e.g. udp://host:6969/announce`);
  // new URL() keeps the raw percent-encoding of path and query, so passkeys survive.
  const rawQuery = text.includes('?') ? text.slice(text.indexOf('?')) : '';
  return {
    transport,
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? DEFAULT_PORTS[transport] : Number(url.port),
    pathAndQuery: (url.pathname || '/') + rawQuery.replace(/#.*$/, ''),
    href: text.trim(),
  };
}

/**
 * BEP 48: the scrape URL replaces the last path segment's leading
 * "announce" with "scrape", keeping the rest and the query. A tracker
 * whose announce path's last segment does not start with "announce" has no
 * scrape URL.
 */
export function scrapePathFor(u: TrackerUrl): string {
  const q = u.pathAndQuery.indexOf('?');
  const path = q < 0 ? u.pathAndQuery : u.pathAndQuery.slice(0, q);
  const query = q < 0 ? '' : u.pathAndQuery.slice(q);
  const slash = path.lastIndexOf('/');
  const last = path.slice(slash + 1);
  if (!last.startsWith('announce')) {
    throw new UsageError(`-t: cannot derive a scrape URL from ${u.href}: the last path segment does not start with "announce" (BEP 48)`);
  }
  return `${path.slice(0, slash + 1)}scrape${last.slice('announce'.length)}${query}`;
}

export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The URL of `u` with another path (e.g. its scrape path). */
export function withPath(u: TrackerUrl, pathAndQuery: string): string {
  return `${u.transport}://${hostForUrl(u.host)}:${u.port}${pathAndQuery}`;
}
