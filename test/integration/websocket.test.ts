/** WebSocket (WebTorrent) peers on the real tracker: announces, offer/answer relay and its rules, scrapes on every transport, limits. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ERRORS } from '../../src/protocol/errors.js';
import { percentEncode } from '../../src/protocol/http.js';
import { asDict, httpGet, id20, makeCert, prng, startTestTracker, trackerGet, waitFor, type TestTracker } from '../helpers.js';
import { udpScrape } from '../tracker-client.js';
import { WsClient, wsAnnounce, type Frame } from '../ws-client.js';

const sdp = (kind: 'offer' | 'answer', n: number): { type: string; sdp: string } => ({ type: kind, sdp: `v=0\r\no=- ${n} 2 IN IP4 127.0.0.1\r\n` });

/** A WebSocket upgrade request as a raw client sends it (RFC 6455's sample key). */
const RAW_UPGRADE = 'GET /announce HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';


describe('WebSocket tracker', () => {
  let t: TestTracker;
  let url: string;
  const open: WsClient[] = [];
  const client = async (): Promise<WsClient> => {
    const c = await WsClient.open(url);
    open.push(c);
    return c;
  };
  before(async () => {
    t = await startTestTracker({ interval: 120 }, { wsLimits: { maxSwarms: 3, burst: 40, messagesPerSecond: 100 } });
    url = `ws://127.0.0.1:${t.httpPort}/announce`;
  });
  after(async () => {
    for (const c of open) c.close();
    await t.tracker.close();
  });

  test('announce: the reply has interval and counts; an offer reaches another peer; its answer comes back', async () => {
    const hash = id20('ws-pair');
    const a = await client();
    const b = await client();
    a.send(wsAnnounce(hash, id20('wsA')));
    assert.deepEqual(await a.next(), { action: 'announce', interval: 120, info_hash: hash, complete: 0, incomplete: 1 });
    b.send(wsAnnounce(hash, id20('wsB'), { offers: [{ offer: sdp('offer', 1), offer_id: id20('offer-1') }] }));
    assert.deepEqual(await b.next(), { action: 'announce', interval: 120, info_hash: hash, complete: 0, incomplete: 2 });
    assert.deepEqual(await a.next(), { action: 'announce', info_hash: hash, peer_id: id20('wsB'), offer: sdp('offer', 1), offer_id: id20('offer-1') });
    a.send({ action: 'announce', info_hash: hash, peer_id: id20('wsA'), to_peer_id: id20('wsB'), answer: sdp('answer', 1), offer_id: id20('offer-1') });
    assert.deepEqual(await b.next(), { action: 'announce', info_hash: hash, peer_id: id20('wsA'), answer: sdp('answer', 1), offer_id: id20('offer-1') });
    // An answer adds nobody to the swarm, and answers once.
    a.send({ action: 'announce', info_hash: hash, peer_id: id20('wsA'), to_peer_id: id20('wsB'), answer: sdp('answer', 2), offer_id: id20('offer-1') });
    assert.match(String((await a.next())['failure reason']), /answer to an offer this tracker did not send you/);
    assert.ok(await b.silentFor(200), 'a second answer to one offer is not passed on');
  });

  test('relay rules: no answer to an offer never sent, or sent to someone else; offers never go back to the sender', async () => {
    const hash = id20('ws-rules');
    const [a, b, c] = [await client(), await client(), await client()];
    a.send(wsAnnounce(hash, id20('rA')));
    await a.next();
    // B offers; exactly one of A and C... C is not in the swarm yet, so A gets it.
    b.send(wsAnnounce(hash, id20('rB'), { offers: [{ offer: sdp('offer', 2), offer_id: id20('offer-2') }, { offer: sdp('offer', 3), offer_id: id20('offer-3') }] }));
    await b.next();
    const got = await a.next();
    assert.equal(got['offer_id'], id20('offer-2'));
    assert.ok(await a.silentFor(150), 'one offer per other peer: the second has nobody else to go to');
    // C, outside the swarm, answers A's offer from B: refused, and B hears nothing.
    c.send({ action: 'announce', info_hash: hash, peer_id: id20('rC'), to_peer_id: id20('rB'), answer: sdp('answer', 9), offer_id: id20('offer-2') });
    assert.match(String((await c.next())['failure reason']), /did not send you/);
    // An answer to an offer id nobody made.
    a.send({ action: 'announce', info_hash: hash, peer_id: id20('rA'), to_peer_id: id20('rB'), answer: sdp('answer', 9), offer_id: id20('never') });
    assert.match(String((await a.next())['failure reason']), /did not send you/);
    assert.ok(await b.silentFor(200), 'B got no answer it did not ask for');
    // The real answer still works.
    a.send({ action: 'announce', info_hash: hash, peer_id: id20('rA'), to_peer_id: id20('rB'), answer: sdp('answer', 2), offer_id: id20('offer-2') });
    assert.equal((await b.next())['offer_id'], id20('offer-2'));
    // The answer did not make C a member.
    c.send({ action: 'scrape', info_hash: hash });
    assert.deepEqual(await c.next(), { action: 'scrape', files: { [hash]: { complete: 0, incomplete: 2, downloaded: 0 } } });
  });

  test('WebSocket peers count in HTTP, UDP and WebSocket scrapes; HTTP peers are not offered to them, nor they handed to HTTP peers; a closed socket leaves', async () => {
    const hash = id20('ws-mixed');
    const a = await client();
    a.send(wsAnnounce(hash, id20('mA'), { left: 0 }));
    await a.next();
    const http = await trackerGet(t.httpPort, `/announce?info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id20('mH'))}&port=6881&left=5`);
    assert.equal(http.get('complete'), 1, 'the browser seeder counts in an HTTP announce');
    assert.equal(http.get('incomplete'), 1);
    assert.equal((http.get('peers') as Buffer).length, 0, 'but is not handed to an HTTP peer');
    const files = asDict(asDict((await trackerGet(t.httpPort, `/scrape?info_hash=${percentEncode(hash)}`)).get('files')).get(hash));
    assert.deepEqual([files.get('complete'), files.get('incomplete')], [1, 1]);
    assert.deepEqual(await udpScrape(t.udpPort, [hash]), [{ complete: 1, incomplete: 1, downloaded: 0 }]);
    a.send({ action: 'scrape', info_hash: [hash, id20('nothing')] });
    assert.deepEqual(await a.next(), { action: 'scrape', files: { [hash]: { complete: 1, incomplete: 1, downloaded: 0 }, [id20('nothing')]: { complete: 0, incomplete: 0, downloaded: 0 } } });
    // A second browser peer offers: the only other WebSocket member is A; the HTTP peer gets nothing.
    const b = await client();
    b.send(wsAnnounce(hash, id20('mB'), { offers: [{ offer: sdp('offer', 5), offer_id: id20('offer-5') }, { offer: sdp('offer', 6), offer_id: id20('offer-6') }] }));
    assert.deepEqual(await b.next(), { action: 'announce', interval: 120, info_hash: hash, complete: 1, incomplete: 2 });
    assert.equal((await a.next())['offer_id'], id20('offer-5'));
    a.close();
    await waitFor(async () => (await udpScrape(t.udpPort, [hash]))[0]!.complete === 0, 3000, 'the closed socket left the swarm');
  });

  test('completed counts a download; stopped leaves the swarm', async () => {
    const hash = id20('ws-life');
    const a = await client();
    a.send(wsAnnounce(hash, id20('lA')));
    await a.next();
    a.send(wsAnnounce(hash, id20('lA'), { event: 'completed', left: 0 }));
    assert.deepEqual(await a.next(), { action: 'announce', interval: 120, info_hash: hash, complete: 1, incomplete: 0 });
    assert.deepEqual(await udpScrape(t.udpPort, [hash]), [{ complete: 1, incomplete: 0, downloaded: 1 }]);
    a.send(wsAnnounce(hash, id20('lA'), { event: 'stopped' }));
    assert.deepEqual(await a.next(), { action: 'announce', interval: 120, info_hash: hash, complete: 0, incomplete: 0 });
    // Counted as their own transport on the stats page and in the metrics.
    const ws = t.tracker.stats.activity().periods.all_time.protocols.ws;
    assert.ok(ws.announces >= 3, `ws announces counted: ${JSON.stringify(ws)}`);
  });

  test('hostile input: garbage gets a failure reason and the socket stays; binary frames and oversized frames close it; too many offers or swarms are refused', async () => {
    const a = await client();
    for (const [frame, reason] of [
      ['not json', /not a JSON object/],
      ['[1,2]', /not a JSON object/],
      ['{"action":"fly"}', /invalid action/],
      [JSON.stringify(wsAnnounce(id20('h').slice(0, 19), id20('p'))), /invalid info_hash/],
      [JSON.stringify(wsAnnounce(id20('h'), 'é'.repeat(10) + '\u4e00'.repeat(10))), /invalid peer_id/],
      [JSON.stringify(wsAnnounce(id20('h'), id20('p'), { event: 'exploded' })), /invalid event/],
      [JSON.stringify(wsAnnounce(id20('h'), id20('p'), { offers: [{ offer: 'x', offer_id: id20('o') }] })), /invalid offer/],
      [JSON.stringify(wsAnnounce(id20('h'), id20('p'), { offers: Array.from({ length: 11 }, (_, i) => ({ offer: sdp('offer', i), offer_id: id20(`o${i}`) })) })), /too many offers.*11, at most 10/],
    ] as const) {
      a.send(frame);
      assert.match(String((await a.next())['failure reason']), reason, frame.slice(0, 60));
    }
    for (let i = 0; i < 3; i++) {
      a.send(wsAnnounce(id20(`cap${i}`), id20('capper')));
      assert.equal((await a.next())['action'], 'announce');
    }
    a.send(wsAnnounce(id20('cap3'), id20('capper')));
    assert.match(String((await a.next())['failure reason']), /too many swarms.*at most 3/);
    assert.equal(a.closed, null, 'still open after all of that');
    const bin = await client();
    bin.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal(await bin.whenClosed(), 1003);
    const big = await client();
    big.send('x'.repeat(65 * 1024));
    assert.equal(await big.whenClosed(), 1009);
    // The tracker still answers.
    const ok = await client();
    ok.send({ action: 'scrape', info_hash: id20('cap0') });
    assert.equal((await ok.next())['action'], 'scrape');
  });

  test('an upgrade on another path is refused 404', async () => {
    await assert.rejects(WsClient.open(`ws://127.0.0.1:${t.httpPort}/somewhere`), /HTTP 404/);
  });
});

describe('WebSocket peers in the figures', () => {
  test('/stats.json and /metrics count browser peers: live peers and torrents, ws announces and scrapes, the largest swarms', async () => {
    const t = await startTestTracker({ webHttpPort: 0 });
    const a = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
    const b = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
    try {
      const hash = id20('ws-figures');
      a.send(wsAnnounce(hash, id20('fA'), { left: 0 }));
      // --interval's default is 1800 s; browser peers are asked back within 120 s (they offer only when they announce).
      assert.equal((await a.next())['interval'], 120);
      b.send(wsAnnounce(hash, id20('fB')));
      await b.next();
      b.send({ action: 'scrape', info_hash: hash });
      await b.next();
      const web = t.tracker.port('web-http');
      const stats = JSON.parse((await httpGet(web, '/stats.json')).body.toString()) as {
        live: { peers: number; seeders: number; leechers: number; torrents: number };
        periods: { today: { protocols: { ws: { announces: number; scrapes: number } } } };
        top_swarms: { info_hash: string; peers: number; seeders: number; leechers: number }[];
      };
      assert.deepEqual([stats.live.peers, stats.live.seeders, stats.live.leechers, stats.live.torrents], [2, 1, 1, 1]);
      // A swarm of browsers only is among the largest swarms on the page.
      assert.deepEqual(
        stats.top_swarms.map((s) => [s.info_hash, s.peers, s.seeders, s.leechers]),
        [[Buffer.from(hash, 'latin1').toString('hex'), 2, 1, 1]],
      );
      assert.deepEqual(stats.periods.today.protocols.ws, { announces: 2, scrapes: 1 });
      const metrics = (await httpGet(web, '/metrics')).body.toString();
      for (const line of [
        'wildkat_requests_total{transport="ws",family="ipv4",kind="announce"} 2',
        'wildkat_requests_total{transport="ws",family="ipv4",kind="scrape"} 1',
        'wildkat_peers{role="seeder"} 1',
        'wildkat_peers{role="leecher"} 1',
        'wildkat_torrents 1',
      ]) {
        assert.ok(metrics.split('\n').includes(line), `/metrics has ${line}`);
      }
      assert.match(metrics, /^wildkat_response_seconds_count\{transport="ws"\} 3$/m);
    } finally {
      a.close();
      b.close();
      await t.tracker.close();
    }
  });
});

describe('WebSocket garbage', () => {
  test('2,000 random frames (bytes, JSON, near-valid messages) never stop the tracker or log an internal error', async () => {
    const t = await startTestTracker({}, { wsLimits: { burst: 1e9, messagesPerSecond: 1e9, maxSwarms: 1e6 } });
    const random = prng(0x3e5);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const str = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(Math.floor(random() * 256))).join('');
    const values = (): unknown => pick([null, 1, -1, 1e308, 'x', str(20), str(19), [], {}, [str(20)], { type: 'offer', sdp: str(50) }, true]);
    try {
      let c = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
      for (let i = 0; i < 2000; i++) {
        if (c.closed !== null) c = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
        const kind = i % 4;
        if (kind === 0) c.send(str(Math.floor(random() * 300)));
        else if (kind === 1) c.send(JSON.stringify(values()));
        else {
          const m: Record<string, unknown> = { action: pick(['announce', 'scrape', 'x']) };
          for (const k of ['info_hash', 'peer_id', 'to_peer_id', 'offer_id', 'answer', 'event', 'left', 'offers', 'numwant']) if (random() < 0.7) m[k] = k === 'offers' && random() < 0.5 ? [{ offer: values(), offer_id: values() }] : values();
          c.send(JSON.stringify(m));
        }
      }
      const ok = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
      ok.send({ action: 'scrape', info_hash: id20('after-fuzz') });
      assert.equal((await ok.next())['action'], 'scrape');
      ok.close();
      c.close();
      assert.deepEqual(t.logs.lines.filter((l) => l['level'] === 50), [], 'no internal errors');
    } finally {
      await t.tracker.close();
    }
  });
});

describe('WebSocket limits', () => {
  test('a socket over its message rate is told to slow down, then closed', async () => {
    const t = await startTestTracker({}, { wsLimits: { burst: 5, messagesPerSecond: 1 } });
    const a = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
    try {
      const hash = id20('rate');
      for (let i = 0; i < 30; i++) a.send(wsAnnounce(hash, id20('rate-peer'), { event: i === 0 ? 'started' : 'update' }));
      const frames: Frame[] = [];
      while (frames.length < 30 && a.closed === null) frames.push(await a.next().catch(() => ({})));
      assert.equal(frames.filter((f) => f['failure reason'] === undefined && f['interval'] !== undefined).length, 5, 'the burst is answered');
      const refused = frames.filter((f) => /too many messages/.test(String(f['failure reason'])));
      assert.ok(refused.length > 0);
      // webtorrent drops its whole socket on a failure without an action: each refusal names its announce.
      for (const f of refused) assert.deepEqual([f['action'], f['info_hash']], ['announce', hash]);
      assert.equal(await a.whenClosed(), 1008);
    } finally {
      a.close();
      await t.tracker.close();
    }
  });

  test('a socket that answers no ping is closed after the idle time; its peer leaves', async () => {
    const t = await startTestTracker({}, { wsLimits: { idleMs: 400 } });
    const hash = id20('ws-idle');
    try {
      // A raw client: does the handshake and sends one announce, then never answers a ping.
      const socket = connect(t.httpPort, '127.0.0.1');
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(RAW_UPGRADE);
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      const payload = Buffer.from(JSON.stringify(wsAnnounce(hash, id20('idle'))));
      const mask = Buffer.from([1, 2, 3, 4]);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]), mask, masked]));
      await waitFor(async () => (await udpScrape(t.udpPort, [hash]))[0]!.incomplete === 1, 3000, 'the raw peer joined');
      const started = Date.now();
      // Bounded: without the ping check the socket would stay open for good.
      const at = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), 5000).unref())]);
      assert.ok(at - started < 3000, `closed after ${at - started} ms`);
      socket.destroy();
      await waitFor(async () => (await udpScrape(t.udpPort, [hash]))[0]!.incomplete === 0, 3000, 'the idle peer left');
    } finally {
      await t.tracker.close();
    }
  });

  test('WebSocket connections count against --max-connections', async () => {
    const t = await startTestTracker({ maxConnections: 2 });
    const url = `ws://127.0.0.1:${t.httpPort}/announce`;
    const a = await WsClient.open(url);
    const b = await WsClient.open(url);
    try {
      await assert.rejects(WsClient.open(url));
      b.close();
      await waitFor(async () => {
        const c = await WsClient.open(url).catch(() => null);
        c?.close();
        return c !== null;
      }, 3000, 'a place again once one closed');
    } finally {
      a.close();
      b.close();
      await t.tracker.close();
    }
  });

  test('--max-torrents holds for swarms of browser peers: a new one beyond it is refused, naming its announce; known ones keep working', async () => {
    const t = await startTestTracker({ maxTorrents: 2, webHttpPort: 0 });
    const ws = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
    try {
      const [h1, h2, h3] = [id20('cap-1'), id20('cap-2'), id20('cap-3')];
      for (const h of [h1, h2]) {
        ws.send(wsAnnounce(h, id20('capper')));
        assert.equal((await ws.next())['failure reason'], undefined);
      }
      ws.send(wsAnnounce(h3, id20('capper')));
      assert.deepEqual(await ws.next(), { 'failure reason': ERRORS.torrent_limit.text, action: 'announce', info_hash: h3 });
      // A known swarm still takes a new peer, and the refused one made nothing.
      const other = await WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`);
      other.send(wsAnnounce(h1, id20('second')));
      assert.equal((await other.next())['incomplete'], 2);
      other.close();
      assert.deepEqual(await t.tracker.store.scrape([h3], t.clock.now()), [{ infoHash: h3, complete: 0, incomplete: 0, downloaded: 0 }]);
      const stats = JSON.parse((await httpGet(t.tracker.port('web-http'), '/stats.json')).body.toString()) as { periods: { today: { refused_announces: number } } };
      assert.equal(stats.periods.today.refused_announces, 1, 'counted as a refused announce');
      // Once a swarm is left, a new one fits again.
      ws.send({ ...wsAnnounce(h2, id20('capper')), event: 'stopped' });
      await ws.next();
      ws.send(wsAnnounce(h3, id20('capper')));
      assert.equal((await ws.next())['failure reason'], undefined);
    } finally {
      ws.close();
      await t.tracker.close();
    }
  });

  test('--redirect-http: no WebSocket on the redirecting HTTP listener, a 403 naming the wss:// URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wk-ws-redirect-'));
    const cert = makeCert(dir, 'redirect');
    const t = await startTestTracker({ redirectHttp: true, httpsPort: 0, cert: cert.certPath, key: cert.keyPath, domain: 'tracker.example.net' });
    try {
      await assert.rejects(WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`));
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(t.httpPort, '127.0.0.1', () =>
          socket.write(RAW_UPGRADE),
        );
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.setTimeout(3000, () => socket.destroy(new Error('no reply')));
      });
      assert.match(reply, /^HTTP\/1\.1 403 /);
      assert.match(reply, /use wss:\/\/tracker\.example\.net\/announce/);
    } finally {
      await t.tracker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--no-websocket: the upgrade is refused', async () => {
    const t = await startTestTracker({ websocket: false });
    try {
      await assert.rejects(WsClient.open(`ws://127.0.0.1:${t.httpPort}/announce`));
      assert.equal((await httpGet(t.httpPort, '/scrape')).status, 200, 'HTTP goes on');
    } finally {
      await t.tracker.close();
    }
  });
});
