/** The stats page server over real HTTP: /stats.json figures, headers, assets. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { percentEncode } from '../../src/protocol/http.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from '../../src/protocol/udp.js';
import type { StatsJson } from '../../src/stats/page-server.js';
import { httpGet, id20, startTestTracker, UdpClient, waitFor, type TestTracker } from '../helpers.js';

async function statsJson(t: TestTracker): Promise<StatsJson> {
  const reply = await httpGet(t.tracker.port('web-http'), '/stats.json');
  assert.equal(reply.status, 200);
  return JSON.parse(reply.body.toString()) as StatsJson;
}

describe('stats page server', () => {
  let t: TestTracker;
  before(async () => {
    t = await startTestTracker({ webHttpPort: 0, peerTtl: 600, domain: 'tracker.example.net' });
  });
  after(() => t.tracker.close());

  test('GET /health: 200 with every listener up; HEAD: the status alone', async () => {
    const reply = await httpGet(t.tracker.port('web-http'), '/health');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(reply.body.toString()), { status: 'ok', listeners: { up: 2, expected: 2 }, store: 'memory' });
    const head = await httpGet(t.tracker.port('web-http'), '/health', {}, '127.0.0.1', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('GET /health: 503 while a worker is missing', async () => {
    // What the --workers primary reports while it replaces a worker that died.
    const other = await startTestTracker({ webHttpPort: 0 }, { workersUp: () => ({ up: 1, expected: 2 }) });
    try {
      const reply = await httpGet(other.tracker.port('web-http'), '/health');
      assert.equal(reply.status, 503);
      assert.deepEqual(JSON.parse(reply.body.toString()), { status: 'unavailable', listeners: { up: 1, expected: 2 }, store: 'memory' });
    } finally {
      await other.tracker.close();
    }
  });

  test('the running tracker logs "the last minute" with that interval\'s announces and scrapes per transport, and nothing for a quiet interval', { timeout: 20_000 }, async () => {
    const quiet = await startTestTracker({}, { reportIntervalMs: 150 });
    try {
      const lines = (): Record<string, unknown>[] => quiet.logs.lines.filter((l) => l['msg'] === 'the last minute');
      const hash = id20('minute');
      // Let the first tick take its baseline, then announce twice and scrape once.
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 2; i++) await httpGet(quiet.httpPort, `/announce?info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id20(`m${i}`))}&port=${7100 + i}&left=5`);
      await httpGet(quiet.httpPort, `/scrape?info_hash=${percentEncode(hash)}`);
      // On a busy machine the three requests may straddle an interval: add the lines up.
      const total = (field: string): number =>
        lines().reduce((n, l) => n + Object.values(l[field] as Record<string, number>).reduce((a, b) => a + b, 0), 0);
      await waitFor(() => total('announces') === 2 && total('scrapes') === 1, 5000, '"the last minute" lines with 2 announces and 1 scrape');
      for (const l of lines()) {
        assert.deepEqual(Object.keys(l['announces'] as object).concat(Object.keys(l['scrapes'] as object)).filter((k) => k !== 'http'), [], 'only HTTP traffic');
        assert.equal(l['level'], 30, 'info');
      }
      const last = lines().at(-1)!;
      assert.equal(last['peers'], 2);
      assert.equal(last['torrents'], 1);
      // Nothing more happens: several intervals pass without another line.
      const count = lines().length;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(lines().length, count, 'no line for a quiet interval');
    } finally {
      await quiet.tracker.close();
    }
  });

  test('/stats.json counts HTTP and UDP announces, scrapes, live peers and bytes', async () => {
    const hash = id20('stats');
    for (let i = 0; i < 5; i++) {
      await httpGet(t.httpPort, `/announce?info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id20(`h${i}`))}&port=${7000 + i}&left=${i === 0 ? 0 : 5}`);
    }
    await httpGet(t.httpPort, `/scrape?info_hash=${percentEncode(hash)}`);
    const udp = new UdpClient(t.udpPort, '127.0.0.1', '127.0.0.3');
    try {
      const connect = decodeResponse(await udp.request(encodeConnectRequest(1)));
      assert.ok(connect.action === 'connect');
      for (let i = 0; i < 3; i++) {
        const announce = { infoHash: id20('stats-udp'), peerId: id20(`u${i}`), port: 8000 + i, uploaded: 0, downloaded: 0, left: 1, event: 'started' as const, numwant: null };
        await udp.request(encodeAnnounceRequest({ connectionId: connect.connectionId, transactionId: 2 + i, announce, key: 0 }));
      }
      await udp.request(encodeScrapeRequest(connect.connectionId, 9, [hash]));
    } finally {
      udp.close();
    }
    const s = await statsJson(t);
    assert.equal(s.tracker.id, 'Wildkat');
    assert.deepEqual(s.live, { torrents: 2, peers: 8, seeders: 1, leechers: 7 });
    const today = s.periods.today;
    assert.equal(today.announces, 8);
    assert.equal(today.scrapes, 2);
    assert.deepEqual(today.protocols.http, { announces: 5, scrapes: 1 });
    assert.deepEqual(today.protocols.udp, { announces: 3, scrapes: 1 });
    assert.deepEqual(today.families.ipv4, { announces: 8, scrapes: 2 });
    assert.equal(today.unique_ips, 2, '127.0.0.1 and 127.0.0.3');
    assert.ok(today.bytes_sent > 0);
    assert.equal(today.responses, 5 + 1 + 1 + 3 + 1, 'HTTP replies and UDP packets (connect, announces, scrape)');
    assert.deepEqual(s.periods.all_time.announces, 8);
    assert.equal(s.hourly.today.reduce((a, b) => a + b, 0), 8);
    assert.equal(s.daily.at(-1)?.announces, 8);
    assert.equal(s.last_hour.announces_per_second.udp.length, 60);
    assert.deepEqual(s.announce_urls, {
      udp: `udp://tracker.example.net:${t.udpPort}/announce`,
      https: null,
      http: `http://tracker.example.net:${t.httpPort}/announce`,
      wss: null,
      ws: `ws://tracker.example.net:${t.httpPort}/announce`,
    });
  });

  test('live peers never include expired ones; top swarms come from the sweeper', async () => {
    await t.tracker.sweepAll();
    let s = await statsJson(t);
    assert.equal(s.top_swarms[0]?.info_hash, Buffer.from(id20('stats'), 'latin1').toString('hex'));
    assert.deepEqual(s.top_swarms[0], { info_hash: s.top_swarms[0]?.info_hash, peers: 5, seeders: 1, leechers: 4, downloaded: 0 });
    t.clock.advance(600); // every peer is past --peer-ttl; nothing has swept them
    s = await statsJson(t);
    assert.deepEqual(s.live, { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
    assert.equal(s.tracker.uptime_seconds, 600);
  });

  test('the page and its assets carry type, cache and security headers; nothing else is served', async () => {
    const port = t.tracker.port('web-http');
    const page = await httpGet(port, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'; style-src 'self'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['cache-control'], 'no-cache');
    // Nothing from elsewhere: every src/href is a path on this server.
    const html = page.body.toString();
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(m[1]!.startsWith('/'), `local reference: ${m[1]}`);
    assert.doesNotMatch(html, /<script>|<style>| style="/, 'no inline code (the CSP forbids it)');
    const etag = String(page.headers['etag']);
    assert.equal((await httpGet(port, '/', { 'If-None-Match': etag })).status, 304);
    assert.equal((await httpGet(port, '/stats.js')).headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await httpGet(port, '/stats.css')).headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await httpGet(port, '/favicon.svg')).headers['content-type'], 'image/svg+xml');
    const json = await httpGet(port, '/stats.json');
    assert.equal(json.headers['cache-control'], 'no-store');
    assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal((await httpGet(port, '/announce')).status, 404, 'the stats server is not a tracker');
    assert.equal((await httpGet(port, '/../package.json')).status, 404);
  });
});
