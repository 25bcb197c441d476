/**
 * What a person who just started the tracker at a terminal needs to know,
 * in a few lines: the announce URLs to give torrent clients (one per
 * listener and family), the stats page, where swarms are kept. The JSON
 * log (journald) has the same facts as `listening` lines.
 */
import type { ListenerInfo } from '../frontend/listen.js';
import { domainHost, servesBrowserPeers, type TrackerOptions } from '../runtime/config.js';
import { redactUrl } from '../store/redis-connection.js';

export interface SummaryInput {
  options: TrackerOptions;
  /** Every listener bound (tracker and stats page). */
  listeners: readonly ListenerInfo[];
  version: string;
  /** This machine's name (os.hostname()). */
  hostName: string;
  /** This machine's global IPv6 addresses, if any (for a listener on `::`). */
  addresses6: readonly string[];
}

const WILDCARD = new Set(['0.0.0.0', '::']);
const LOOPBACK = /^(127\.|::1$)/;

function hostFor(l: ListenerInfo, input: SummaryInput): string {
  if (input.options.domain !== 'localhost') return domainHost(input.options.domain);
  if (!WILDCARD.has(l.address)) return l.family === 6 ? `[${l.address}]` : l.address;
  if (l.family === 4) return input.hostName;
  return `[${input.addresses6[0] ?? '::1'}]`;
}

/** An IPv6 wildcard on a machine without a global IPv6 address reaches only this machine. */
function reachNote(l: ListenerInfo, input: SummaryInput): string {
  const onlyHere = input.options.domain === 'localhost' && l.family === 6 && WILDCARD.has(l.address) && input.addresses6.length === 0;
  return onlyHere ? ', this machine only: no global IPv6 address' : '';
}

function url(scheme: string, host: string, port: number, defaultPort: number, path: string): string {
  return `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}${path}`;
}

export function startSummary(input: SummaryInput): string {
  const { options, listeners } = input;
  const lines = [`Wildkat tracker ${input.version} is running.`, '', 'Announce URLs for torrent clients:'];
  const ws = servesBrowserPeers(options);
  const browsers: string[] = [];
  for (const l of listeners) {
    const family = `${l.family === 6 ? 'IPv6' : 'IPv4'}${reachNote(l, input)}`;
    const host = hostFor(l, input);
    if (l.protocol === 'udp') lines.push(`  ${url('udp', host, l.port, -1, '/announce')}   (UDP, ${family})`);
    if (l.protocol === 'http' && !options.redirectHttp) {
      lines.push(`  ${url('http', host, l.port, 80, '/announce')}   (HTTP, ${family})`);
      if (ws) browsers.push(`  ${url('ws', host, l.port, 80, '/announce')}   (WebSocket, ${family})`);
    }
    if (l.protocol === 'https') {
      // --domain carries the HTTPS port clients use (behind a proxy it may differ from the bound one).
      const shown = options.domain !== 'localhost' ? `https://${options.domain}/announce` : url('https', host, l.port, 443, '/announce');
      lines.push(`  ${shown}   (HTTPS, ${family})`);
      if (ws) browsers.push(`  ${shown.replace(/^https:/, 'wss:')}   (secure WebSocket, ${family})`);
    }
  }
  if (browsers.length > 0) lines.push('', 'For browser (WebTorrent) peers:', ...browsers);
  const pages = listeners.filter((l) => l.protocol === 'web-http' || l.protocol === 'web-https');
  lines.push('');
  if (pages.length === 0) lines.push('Stats page: off (--web-http-port 0)');
  for (const l of pages) {
    const secure = l.protocol === 'web-https';
    lines.push(`Stats page: ${url(secure ? 'https' : 'http', hostFor(l, input), l.port, secure ? 443 : 80, '/')}   (health: /health, metrics: /metrics)`);
  }
  if (options.store === 'memory') {
    lines.push('Store: memory, in this process');
    lines.push(
      options.stateFile !== null
        ? `State file: ${options.stateFile} (saved every ${options.stateInterval} s and on shutdown, loaded on start)`
        : 'State file: none (swarms are lost on restart; --state-file PATH keeps them)',
    );
  } else {
    lines.push(`Store: ${redactUrl(options.store)} (shared by every tracker using it)${options.workers > 1 ? `, ${options.workers} workers` : ''}`);
  }
  const bound = listeners.map((l) => l.address);
  if (options.domain === 'localhost' && pages.length > 0 && bound.some((a) => !LOOPBACK.test(a))) {
    lines.push('');
    lines.push('No --domain given: the stats page shows its announce URLs with "localhost".');
    lines.push(`Start with --domain ${input.hostName.includes('.') ? input.hostName : 'tracker.example.net'} (the name clients reach this machine by) to fix that.`);
  }
  // The listeners have logged their lines above this summary by now.
  lines.push('', 'Log lines go on below (JSON when not on a terminal). Ctrl-C stops the tracker.', '');
  return lines.join('\n');
}
