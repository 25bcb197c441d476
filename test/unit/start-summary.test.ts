/** The start summary printed on a terminal: what a new operator needs to know at once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOptions } from '../../src/runtime/config.js';
import { startSummary } from '../../src/tracker/start-summary.js';

const base = { version: '1.2.3', hostName: 'box.example.org', addresses6: ['2001:db8::5'] };

test('all interfaces, no --domain: URLs with the host name (and the IPv6 address), the stats page, the store, and how to fix the page\'s localhost URLs', () => {
  const options = resolveOptions({ ipv6: true, webHttpPort: 8080 });
  const text = startSummary({
    ...base,
    options,
    listeners: [
      { protocol: 'http', family: 4, address: '0.0.0.0', port: 6969 },
      { protocol: 'udp', family: 4, address: '0.0.0.0', port: 6969 },
      { protocol: 'web-http', family: 4, address: '0.0.0.0', port: 8080 },
      { protocol: 'http', family: 6, address: '::', port: 6969 },
      { protocol: 'udp', family: 6, address: '::', port: 6969 },
      { protocol: 'web-http', family: 6, address: '::', port: 8080 },
    ],
  });
  for (const line of [
    '  http://box.example.org:6969/announce   (HTTP, IPv4)',
    '  udp://box.example.org:6969/announce   (UDP, IPv4)',
    '  http://[2001:db8::5]:6969/announce   (HTTP, IPv6)',
    '  udp://[2001:db8::5]:6969/announce   (UDP, IPv6)',
    'For browser (WebTorrent) peers:',
    '  ws://box.example.org:6969/announce   (WebSocket, IPv4)',
    '  ws://[2001:db8::5]:6969/announce   (WebSocket, IPv6)',
    'Stats page: http://box.example.org:8080/   (health: /health, metrics: /metrics)',
    'Store: memory, in this process',
    'State file: none (swarms are lost on restart; --state-file PATH keeps them)',
    'No --domain given: the stats page shows its announce URLs with "localhost".',
    'Start with --domain box.example.org (the name clients reach this machine by) to fix that.',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing: ${line}\n${text}`);
  }
  assert.ok(text.startsWith('Wildkat tracker 1.2.3 is running.'));
});

test('--domain, HTTPS, a state file: the domain in every URL, no localhost note; loopback alone needs no note either', () => {
  const options = resolveOptions({ domain: 'tracker.example.net:8443', httpsPort: 8443, cert: 'c', key: 'k', stateFile: '/var/lib/wildkat/state', webHttpPort: null });
  const text = startSummary({
    ...base,
    options,
    listeners: [
      { protocol: 'https', family: 4, address: '0.0.0.0', port: 8443 },
      { protocol: 'udp', family: 4, address: '0.0.0.0', port: 6969 },
    ],
  });
  assert.match(text, /^ {2}https:\/\/tracker\.example\.net:8443\/announce {3}\(HTTPS, IPv4\)$/m);
  assert.match(text, /^ {2}wss:\/\/tracker\.example\.net:8443\/announce {3}\(secure WebSocket, IPv4\)$/m);
  assert.match(text, /^ {2}udp:\/\/tracker\.example\.net:6969\/announce/m);
  assert.match(text, /^State file: \/var\/lib\/wildkat\/state \(saved every 300 s and on shutdown, loaded on start\)$/m);
  assert.match(text, /^Stats page: off/m);
  assert.doesNotMatch(text, /No --domain/);
  const local = startSummary({ ...base, options: resolveOptions({ host: '127.0.0.1', store: 'redis://:secret@127.0.0.1:6379', workers: 2 }), listeners: [{ protocol: 'udp', family: 4, address: '127.0.0.1', port: 6969 }] });
  assert.match(local, /^ {2}udp:\/\/127\.0\.0\.1:6969\/announce/m);
  assert.match(local, /^Store: redis:\/\/:\*\*\*@127\.0\.0\.1:6379 \(shared by every tracker using it\), 2 workers$/m);
  assert.doesNotMatch(local, /secret|No --domain/);
  assert.doesNotMatch(local, /WebSocket/, 'browser peers are off with --workers on Redis');
});

test('no WebSocket URLs with --no-websocket; an IPv6 wildcard without a global address is marked; no localhost note without a stats page', () => {
  const listeners = [
    { protocol: 'http', family: 4, address: '0.0.0.0', port: 6969 },
    { protocol: 'http', family: 6, address: '::', port: 6969 },
  ] as const;
  const text = startSummary({ ...base, addresses6: [], options: resolveOptions({ ipv6: true, websocket: false, webHttpPort: null }), listeners });
  assert.doesNotMatch(text, /ws:\/\/|WebSocket/);
  assert.match(text, /^ {2}http:\/\/\[::1\]:6969\/announce {3}\(HTTP, IPv6, this machine only: no global IPv6 address\)$/m);
  assert.match(text, /^ {2}http:\/\/box\.example\.org:6969\/announce {3}\(HTTP, IPv4\)$/m);
  assert.doesNotMatch(text, /No --domain/, 'no stats page, so no localhost URLs to fix');
  const withPage = startSummary({ ...base, options: resolveOptions({ webHttpPort: 8080 }), listeners: [...listeners, { protocol: 'web-http', family: 4, address: '0.0.0.0', port: 8080 }] });
  assert.match(withPage, /No --domain given/);
});
