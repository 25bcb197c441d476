/**
 * --allow-list and --deny-list on the real tracker: refused announces over
 * HTTP and UDP (IPv4 and IPv6), scrapes without the refused hashes, counts
 * in /stats.json, reloads on SIGHUP and on a changed file (swarms the new
 * list refuses are dropped), the same for browser peers over WebSocket, and
 * a reload that cannot read the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ERRORS } from '../../src/protocol/errors.js';
import { buildAnnounceQuery, buildScrapeQuery, decodeAnnounceReply, decodeScrapeReply } from '../../src/protocol/http-client.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest } from '../../src/protocol/udp.js';
import { ConfigError } from '../../src/runtime/config.js';
import { hasLoopback6, httpGet, id20, startTestTracker, UdpClient, waitFor, type TestTracker } from '../helpers.js';
import { httpAnnounce, httpScrape, udpAnnounce, udpScrape } from '../tracker-client.js';
import { WsClient, wsAnnounce } from '../ws-client.js';

const REFUSED = ERRORS.torrent_not_allowed.text;
const hex = (h: string): string => Buffer.from(h, 'latin1').toString('hex');

const LISTED = id20('listed');
const OTHER = id20('other');
const LATER = id20('later');

describe('--allow-list', () => {
  let dir: string;
  let path: string;
  let t: TestTracker;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wildkat-acl-'));
    path = join(dir, 'allow.txt');
    writeFileSync(path, `# allowed\n${hex(LISTED)}\nnot-a-hash\n`);
    t = await startTestTracker({ allowList: path, webHttpPort: 0 }, { certWatchIntervalMs: 50 });
  });
  after(async () => {
    await t?.tracker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a bad line is logged with its number and the rest is used', () => {
    const bad = t.logs.lines.find((l) => l['msg'] === 'access list: not an info hash (40 or 64 hex digits), line skipped');
    assert.equal(bad?.['line'], 3);
    assert.equal(t.logs.lines.find((l) => l['msg'] === 'access list loaded')?.['hashes'], 1);
  });

  test('listed: served over HTTP and UDP; not listed: refused with a clear text on both', async () => {
    assert.equal((await httpAnnounce(t.httpPort, { infoHash: LISTED, peerId: id20('a'), port: 7001 })).failure, null);
    assert.deepEqual(await udpAnnounce(t.udpPort, { infoHash: LISTED, peerId: id20('b'), port: 7002 }), { failure: null, complete: 0, incomplete: 2, ports: [7001] });
    assert.equal((await httpAnnounce(t.httpPort, { infoHash: OTHER, peerId: id20('a'), port: 7001 })).failure, REFUSED);
    assert.equal((await udpAnnounce(t.udpPort, { infoHash: OTHER, peerId: id20('a'), port: 7001 })).failure, REFUSED);
    const errors = t.tracker.stats.errorFigures();
    assert.equal(errors.torrent_not_allowed, 2, 'refusals counted by reason');
    assert.deepEqual(await t.tracker.store.totals(t.clock.now()), { torrents: 1, peers: 2, seeders: 0, leechers: 2 }, 'a refused announce creates nothing');
  });

  test('scrape: no entry for a refused hash over HTTP; zeros in its place over UDP', async () => {
    assert.deepEqual(await httpScrape(t.httpPort, [OTHER, LISTED]), [{ complete: 0, incomplete: 0, downloaded: 0 }, { complete: 0, incomplete: 2, downloaded: 0 }]);
    const reply = decodeScrapeReply((await httpGet(t.httpPort, `/scrape?${buildScrapeQuery([OTHER, LISTED])}`)).body);
    assert.deepEqual(reply.files.map((f) => f.infoHash), [hex(LISTED)], 'the refused hash is left out');
    assert.deepEqual(await udpScrape(t.udpPort, [OTHER, LISTED]), [{ complete: 0, incomplete: 0, downloaded: 0 }, { complete: 0, incomplete: 2, downloaded: 0 }]);
  });

  test('a changed file is loaded by itself; the swarm of a hash it no longer lists is dropped', async () => {
    // Written elsewhere and renamed over the list, as a deploy would.
    writeFileSync(join(dir, 'next.txt'), `${hex(LATER)}\n`);
    renameSync(join(dir, 'next.txt'), path);
    await waitFor(() => t.tracker.access?.current.refuses(LATER) === null, 5000, 'the new list');
    assert.equal((await udpAnnounce(t.udpPort, { infoHash: LATER, peerId: id20('c'), port: 7003 })).failure, null);
    assert.equal((await httpAnnounce(t.httpPort, { infoHash: LISTED, peerId: id20('a'), port: 7001 })).failure, REFUSED);
    await waitFor(() => t.logs.lines.some((l) => l['msg'] === 'swarms dropped: the access list refuses them'), 3000, 'the drop');
    assert.deepEqual(await t.tracker.store.scrape([LISTED], t.clock.now()), [{ infoHash: LISTED, complete: 0, incomplete: 0, downloaded: 0 }]);
    assert.deepEqual(await t.tracker.store.totals(t.clock.now()), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
  });

  test('SIGHUP reloads; a reload that cannot read the file keeps the list in force and says why', async () => {
    writeFileSync(path, `${hex(LATER)}\n${hex(OTHER)}\n`);
    t.tracker.reload();
    assert.equal(t.tracker.access?.current.refuses(OTHER), null);
    rmSync(path);
    t.tracker.reload();
    const failed = t.logs.lines.find((l) => l['msg'] === 'access list reload failed; keeping the list in force');
    assert.equal(failed?.['err'], 'ENOENT');
    assert.equal(t.tracker.access?.current.refuses(OTHER), null, 'the list in force stays');
    assert.equal(t.tracker.access?.current.size, 2);
  });
});

describe('--deny-list', () => {
  let dir: string;
  let t: TestTracker;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wildkat-acl-'));
    const path = join(dir, 'deny.txt');
    writeFileSync(path, `${hex(OTHER).toUpperCase()}\n`);
    t = await startTestTracker({ denyList: path, host: hasLoopback6 ? '::1' : '127.0.0.1' });
  });
  after(async () => {
    await t?.tracker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('listed: refused (over IPv6 where there is ::1); anything else served', async () => {
    const host = hasLoopback6 ? '::1' : '127.0.0.1';
    const query = (h: string): string => buildAnnounceQuery({ infoHash: h, peerId: id20('six'), port: 7100, left: 1, event: 'started', numwant: 5, compact: true, noPeerId: true, key: 1 });
    assert.equal(decodeAnnounceReply((await httpGet(t.httpPort, `/announce?${query(OTHER)}`, {}, host)).body).failure, ERRORS.torrent_denied.text);
    assert.equal(decodeAnnounceReply((await httpGet(t.httpPort, `/announce?${query(LISTED)}`, {}, host)).body).failure, null);
    const udp = new UdpClient(t.udpPort, host);
    try {
      const c = decodeResponse(await udp.request(encodeConnectRequest(1)));
      assert.ok(c.action === 'connect');
      const announce = (h: string): Buffer => encodeAnnounceRequest({ connectionId: c.connectionId, transactionId: 2, announce: { infoHash: h, peerId: id20('six'), port: 7100, downloaded: 0, uploaded: 0, left: 1, event: 'started', numwant: 5 }, key: 1 });
      assert.deepEqual(decodeResponse(await udp.request(announce(OTHER))), { action: 'error', transactionId: 2, message: ERRORS.torrent_denied.text });
      assert.equal(decodeResponse(await udp.request(announce(LISTED))).action, 'announce');
    } finally {
      udp.close();
    }
    assert.equal(t.tracker.stats.errorFigures().torrent_denied, 2);
  });
});

describe('access lists over WebSocket (browser peers)', () => {
  let dir: string;
  let path: string;
  let t: TestTracker;
  let ws: WsClient;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wildkat-acl-'));
    path = join(dir, 'allow.txt');
    writeFileSync(path, `${hex(LISTED)}\n`);
    t = await startTestTracker({ allowList: path });
    ws = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
  });
  after(async () => {
    ws?.close();
    await t?.tracker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('listed: a browser joins; not listed: a failure naming the announce, and no swarm; scrape leaves the refused hash out', async () => {
    ws.send(wsAnnounce(LISTED, id20('w1')));
    assert.deepEqual(await ws.next(), { action: 'announce', info_hash: LISTED, interval: 120, complete: 0, incomplete: 1 });
    ws.send(wsAnnounce(OTHER, id20('w1')));
    assert.deepEqual(await ws.next(), { 'failure reason': REFUSED, action: 'announce', info_hash: OTHER });
    assert.equal(t.tracker.stats.errorFigures().torrent_not_allowed, 1);
    assert.deepEqual(await t.tracker.store.scrape([OTHER], t.clock.now()), [{ infoHash: OTHER, complete: 0, incomplete: 0, downloaded: 0 }], 'a refused announce creates nothing');
    ws.send({ action: 'scrape', info_hash: [OTHER, LISTED] });
    assert.deepEqual(await ws.next(), { action: 'scrape', files: { [LISTED]: { complete: 0, incomplete: 1, downloaded: 0 } } });
  });

  test('a reload that no longer lists the hash drops its browser peers', async () => {
    writeFileSync(path, `${hex(LATER)}\n`);
    t.tracker.reload();
    assert.deepEqual(await t.tracker.store.scrape([LISTED], t.clock.now()), [{ infoHash: LISTED, complete: 0, incomplete: 0, downloaded: 0 }]);
    assert.deepEqual(await t.tracker.store.totals(t.clock.now()), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
    ws.send(wsAnnounce(LISTED, id20('w1')));
    assert.equal((await ws.next())['failure reason'], REFUSED);
  });
});

test('a list that cannot be read stops the start, naming the flag', async () => {
  await assert.rejects(startTestTracker({ allowList: '/nonexistent/allow.txt' }), (e: unknown) => e instanceof ConfigError && /^--allow-list: cannot read \/nonexistent\/allow.txt \(ENOENT\)/.test(e.message));
});
