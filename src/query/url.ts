/** Tracker URLs: parsing, the BEP 48 scrape URL, and BEP 41 URL data for UDP. */
import { UsageError } from './errors.js';

/** The schemes the query tool speaks (the tracker also serves ws:// for browsers). */
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
 * BEP 48: find the last '/' of the announce URL (query included); if the text
 * after it starts with "announce", replacing that word with "scrape" gives
 * the scrape URL. Otherwise the tracker has no scrape URL.
 */
export function scrapePathFor(u: TrackerUrl): string {
  const slash = u.pathAndQuery.lastIndexOf('/');
  const rest = u.pathAndQuery.slice(slash + 1);
  if (!rest.startsWith('announce')) {
    throw new UsageError(`-t: cannot derive a scrape URL from ${u.href}: the text after its last "/" does not start with "announce" (BEP 48)`);
  }
  return `${u.pathAndQuery.slice(0, slash + 1)}scrape${rest.slice('announce'.length)}`;
}

export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The URL of `u` with another path (e.g. its scrape path). */
export function withPath(u: TrackerUrl, pathAndQuery: string): string {
  return `${u.transport}://${hostForUrl(u.host)}:${u.port}${pathAndQuery}`;
}
