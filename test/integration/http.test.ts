/** The real tracker on ephemeral ports, spoken to over real HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decode } from '../../src/protocol/bencode.js';
import { percentEncode } from '../../src/protocol/http.js';
import { decodeCompactPeers } from '../../src/protocol/peers.js';
import { asBytes, asDict, asNumber, hasLoopback6, httpGet, id20, trackerGet, WAIT_MS } from '../helpers.js';
import { needsClock, startTarget, targetSkip, type Target } from '../target.js';

interface AnnounceParams {
  hash: string;
  peer: string;
  port: number;
  left?: number;
  event?: string;
  extra?: string;
}

function announcePath(p: AnnounceParams): string {
  const event = p.event ? `&event=${p.event}` : '';
  return `/announce?info_hash=${percentEncode(p.hash)}&peer_id=${percentEncode(p.peer)}&port=${p.port}&uploaded=0&downloaded=0&left=${p.left ?? 100}${event}${p.extra ?? ''}`;
}

function scrapePath(hashes: string[]): string {
  return `/scrape?${hashes.map((h) => `info_hash=${percentEncode(h)}`).join('&')}`;
}

const HASH = id20('\x00\x80\xff%hash');

describe('HTTP tracker', { skip: targetSkip }, () => {
  let t: Target;
  before(async () => {
    t = await startTarget({ trackerId: 'TestKat', interval: 900, minInterval: 30, peerTtl: 600 });
  });
  after(() => t.close());

  test('two peers announce and find each other (compact), with interval, tracker id and external ip', async () => {
    const hash = id20('pair');
    const first = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('A'), port: 6001, event: 'started' }));
    assert.equal(asBytes(first.get('peers')).length, 0);
    const second = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('B'), port: 6002, left: 0, event: 'started' }));
    assert.deepEqual(decodeCompactPeers(asBytes(second.get('peers')), 4), [{ ip: '127.0.0.1', port: 6001 }]);
    assert.equal(asNumber(second.get('complete')), 1);
    assert.equal(asNumber(second.get('incomplete')), 1);
    assert.equal(asNumber(second.get('interval')), 900);
    assert.equal(asNumber(second.get('min interval')), 30);
    assert.equal(asBytes(second.get('tracker id')).toString(), 'TestKat');
    assert.deepEqual(asBytes(second.get('external ip')), Buffer.from([127, 0, 0, 1]));
    const again = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('A'), port: 6001 }));
    assert.deepEqual(decodeCompactPeers(asBytes(again.get('peers')), 4), [{ ip: '127.0.0.1', port: 6002 }]);
  });

  test('completed increments downloaded; stopped removes the peer', async () => {
    const hash = id20('lifecycle');
    await trackerGet(t.httpPort, announcePath({ hash, peer: id20('A'), port: 6001, event: 'started' }));
    await trackerGet(t.httpPort, announcePath({ hash, peer: id20('B'), port: 6002, event: 'started' }));
    const done = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('A'), port: 6001, left: 0, event: 'completed' }));
    assert.equal(asNumber(done.get('downloaded')), 1);
    assert.equal(asNumber(done.get('complete')), 1);
    let files = asDict(asDict((await trackerGet(t.httpPort, scrapePath([hash]))).get('files')).get(hash));
    assert.deepEqual([files.get('complete'), files.get('incomplete'), files.get('downloaded')], [1, 1, 1]);
    const stopped = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('B'), port: 6002, event: 'stopped' }));
    assert.equal(asNumber(stopped.get('incomplete')), 0);
    assert.equal(asBytes(stopped.get('peers')).length, 0);
    files = asDict(asDict((await trackerGet(t.httpPort, scrapePath([hash]))).get('files')).get(hash));
    assert.deepEqual([files.get('complete'), files.get('incomplete'), files.get('downloaded')], [1, 0, 1]);
  });

  test('a peer that stops announcing disappears after --peer-ttl', { skip: needsClock }, async () => {
    const hash = id20('ttl');
    await trackerGet(t.httpPort, announcePath({ hash, peer: id20('quiet'), port: 6001 }));
    t.clock().advance(300);
    await trackerGet(t.httpPort, announcePath({ hash, peer: id20('alive'), port: 6002 }));
    t.clock().advance(301); // quiet: 601 s since its announce; alive: 301 s
    const out = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('new'), port: 6003 }));
    assert.deepEqual(decodeCompactPeers(asBytes(out.get('peers')), 4), [{ ip: '127.0.0.1', port: 6002 }]);
    t.clock().advance(600);
    assert.ok((await t.sweepAll()) >= 2, 'the sweeper purges the rest');
    const files = asDict(asDict((await trackerGet(t.httpPort, scrapePath([hash]))).get('files')).get(hash));
    assert.equal(files.get('incomplete'), 0);
  });

  test('scrape of 1 and 5 hashes answers each; 6 is refused (--max-scrape-hashes 5)', async () => {
    const hashes = [1, 2, 3, 4, 5, 6].map((i) => id20(`scrape${i}`, 0x80 + i));
    await trackerGet(t.httpPort, announcePath({ hash: hashes[0]!, peer: id20('S'), port: 6001, left: 0 }));
    const one = await trackerGet(t.httpPort, scrapePath(hashes.slice(0, 1)));
    assert.equal(asDict(asDict(one.get('files')).get(hashes[0]!)).get('complete'), 1);
    assert.equal(asNumber(asDict(one.get('flags')).get('min_request_interval')), 30);
    const five = asDict((await trackerGet(t.httpPort, scrapePath(hashes.slice(0, 5)))).get('files'));
    assert.deepEqual([...five.keys()].sort(), hashes.slice(0, 5).sort());
    const six = await trackerGet(t.httpPort, scrapePath(hashes));
    assert.match(asBytes(six.get('failure reason')).toString(), /too many info_hashes.*6.*at most 5/);
  });

  test('full scrape is refused by default', async () => {
    const out = await trackerGet(t.httpPort, '/scrape');
    assert.match(asBytes(out.get('failure reason')).toString(), /full scrape is disabled/);
  });

  test('dict peers with peer id, and without it when no_peer_id=1', async () => {
    const hash = id20('dict');
    await trackerGet(t.httpPort, announcePath({ hash, peer: id20('D1'), port: 7001 }));
    const dict = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('D2'), port: 7002, extra: '&compact=0' }));
    const peers = dict.get('peers');
    assert.ok(Array.isArray(peers));
    assert.deepEqual(peers, [new Map<string, unknown>([['ip', Buffer.from('127.0.0.1')], ['peer id', Buffer.from(id20('D1'), 'latin1')], ['port', 7001]])]);
    const noId = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('D2'), port: 7002, extra: '&compact=0&no_peer_id=1' }));
    assert.deepEqual(noId.get('peers'), [new Map<string, unknown>([['ip', Buffer.from('127.0.0.1')], ['port', 7001]])]);
  });

  test('gzip only when accepted and smaller', async () => {
    const hash = id20('gzip');
    for (let i = 0; i < 30; i++) await trackerGet(t.httpPort, announcePath({ hash, peer: id20(`g${i}`), port: 8000 + i }));
    const path = announcePath({ hash, peer: id20('g0'), port: 8000, extra: '&compact=0' });
    const plain = await httpGet(t.httpPort, path);
    assert.equal(plain.headers['content-encoding'], undefined);
    const zipped = await httpGet(t.httpPort, path, { 'Accept-Encoding': 'gzip, deflate' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.ok(zipped.body.length < plain.body.length);
    assert.equal(asDict(decode(gunzipSync(zipped.body))).get('incomplete'), 30);
    const refused = await httpGet(t.httpPort, path, { 'Accept-Encoding': 'gzip;q=0' });
    assert.equal(refused.headers['content-encoding'], undefined);
    // A tiny reply does not shrink under gzip: it is sent as is.
    const small = await httpGet(t.httpPort, '/scrape', { 'Accept-Encoding': 'gzip' });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.ok(decode(small.body) instanceof Map);
  });

  test('other paths get 404; other methods 405', async () => {
    assert.equal((await httpGet(t.httpPort, '/')).status, 404);
    assert.equal((await httpGet(t.httpPort, '/announce.php')).status, 404);
    const post = await httpGet(t.httpPort, announcePath({ hash: HASH, peer: id20('P'), port: 1 }), {}, '127.0.0.1', { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('keep-alive: several requests on one connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: t.httpPort, path: '/scrape', agent }, (res) => {
            sockets.add(res.socket);
            assert.equal(res.headers['connection'], 'keep-alive');
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end();
        });
      }
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });

  test('bad input gets HTTP 200 with a failure reason, and the server keeps serving', async () => {
    const hash = id20('bad');
    const good = { hash, peer: id20('ok'), port: 6881 };
    const cases: [string, RegExp][] = [
      ['/announce?peer_id=' + percentEncode(id20('x')) + '&port=1&left=0', /missing info_hash/],
      [announcePath({ ...good, hash: hash.slice(0, 19) }), /invalid info_hash: must be 20 bytes, got 19/],
      ['/announce?info_hash=' + percentEncode(hash) + '&port=1&left=0', /missing peer_id/],
      [announcePath({ ...good, port: 0 }), /invalid port/],
      [announcePath({ ...good, port: 99999 }), /invalid port/],
      [announcePath(good).replace('left=100', 'left=abc'), /invalid left/],
      ['/announce?info_hash=%zz&peer_id=%%%&port=1', /info_hash/],
    ];
    for (const [path, reason] of cases) {
      const reply = await httpGet(t.httpPort, path);
      assert.equal(reply.status, 200, path);
      assert.match(asBytes(asDict(decode(reply.body)).get('failure reason')).toString(), reason, path);
    }
    const ok = await trackerGet(t.httpPort, announcePath(good));
    assert.equal(ok.has('failure reason'), false);
    assert.equal(asNumber(ok.get('incomplete')), 1);
  });

  test('unparseable requests get 400, oversized headers 431, and the server keeps serving', async () => {
    const rawReply = (payload: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(t.httpPort, '127.0.0.1');
        let data = '';
        socket.setTimeout(WAIT_MS, () => socket.destroy(new Error('no reply')));
        socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        socket.end(payload);
      });
    assert.match(await rawReply('\x00\x01\x02 garbage\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await rawReply(`GET /announce HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
    const ok = await httpGet(t.httpPort, '/scrape');
    assert.equal(ok.status, 200);
  });

  test('bad-request warnings are rate-limited', async () => {
    const before = t.logLines().filter((l) => String(l['msg']).startsWith('bad request')).length;
    await Promise.all(Array.from({ length: 60 }, () => httpGet(t.httpPort, '/announce?port=1')));
    const warned = t.logLines().filter((l) => String(l['msg']).startsWith('bad request')).length - before;
    assert.ok(warned <= 20 * t.processes, `at most 20 warnings a minute per process, got ${warned}`);
  });
});

describe('HTTP tracker options', { skip: targetSkip }, () => {
  test('full scrape when --full-scrape is on', async () => {
    const t = await startTarget({ fullScrape: true });
    try {
      const hashes = [id20('f1'), id20('f2')];
      for (const hash of hashes) await trackerGet(t.httpPort, announcePath({ hash, peer: id20('p'), port: 6001 }));
      const files = asDict((await trackerGet(t.httpPort, '/scrape')).get('files'));
      assert.deepEqual([...files.keys()].sort(), hashes.sort());
    } finally {
      await t.close();
    }
  });

  test('--max-peers caps numwant; numwant defaults to 50', async () => {
    const t = await startTarget({ maxPeers: 60 });
    try {
      const hash = id20('many');
      for (let i = 0; i < 80; i++) await trackerGet(t.httpPort, announcePath({ hash, peer: id20(`m${i}`), port: 9000 + i }));
      const dflt = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('m0'), port: 9000 }));
      assert.equal(asBytes(dflt.get('peers')).length, 50 * 6);
      const capped = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('m0'), port: 9000, extra: '&numwant=500' }));
      assert.equal(asBytes(capped.get('peers')).length, 60 * 6);
      const few = await trackerGet(t.httpPort, announcePath({ hash, peer: id20('m0'), port: 9000, extra: '&numwant=3' }));
      assert.equal(asBytes(few.get('peers')).length, 3 * 6);
    } finally {
      await t.close();
    }
  });

  test('--verbose logs request and response payloads at debug level', async () => {
    const t = await startTarget({ verbose: true });
    try {
      await trackerGet(t.httpPort, announcePath({ hash: HASH, peer: id20('v'), port: 6001 }));
      const reply = t.logLines().find((l) => l['msg'] === 'http reply');
      assert.ok(reply, 'a debug line for the reply');
      assert.equal(reply['level'], 20);
      assert.equal((reply['response'] as Record<string, unknown>)['tracker id'], 'Wildkat');
      assert.ok(t.logLines().some((l) => l['msg'] === 'http request' && String(l['url']).startsWith('/announce?')));
    } finally {
      await t.close();
    }
  });
});

describe('HTTP over IPv6', { skip: targetSkip || (hasLoopback6 ? false : 'this machine has no ::1') }, () => {
  test('an IPv6 client gets peers6 with IPv4 peers ::ffff:-mapped, and a 16-byte external ip', async () => {
    const t = await startTarget({ host: null, ipv6: true });
    try {
      const hash = id20('six');
      const port4 = t.port('http', 4);
      const port6 = t.port('http', 6);
      await trackerGet(port4, announcePath({ hash, peer: id20('four'), port: 6004 }), '127.0.0.1');
      await trackerGet(port6, announcePath({ hash, peer: id20('six-a'), port: 6006 }), '::1');
      const out = await trackerGet(port6, announcePath({ hash, peer: id20('six-b'), port: 6007 }), '::1');
      assert.equal(asBytes(out.get('peers')).length, 0);
      const peers = decodeCompactPeers(asBytes(out.get('peers6')), 6);
      assert.deepEqual(
        peers.sort((a, b) => a.port - b.port),
        [
          { ip: '::ffff:127.0.0.1', port: 6004 },
          { ip: '::1', port: 6006 },
        ],
      );
      assert.equal(asBytes(out.get('external ip')).toString('hex'), '00000000000000000000000000000001');
      // The IPv4 client does not get the IPv6 peers it cannot reach.
      const four = await trackerGet(port4, announcePath({ hash, peer: id20('four'), port: 6004 }), '127.0.0.1');
      assert.equal(four.has('peers6'), false);
      assert.equal(asBytes(four.get('peers')).length, 0);
      // A dual-stack client: the same peer id over IPv4, then over IPv6. It is never handed itself (as ::ffff:127.0.0.1),
      // and counts once per family it announced from (two addresses others can reach).
      const dual = await trackerGet(port6, announcePath({ hash, peer: id20('four'), port: 6004 }), '::1');
      const dualPeers = decodeCompactPeers(asBytes(dual.get('peers6')), 6);
      assert.ok(!dualPeers.some((p) => p.ip === '::ffff:127.0.0.1'), `not handed its own IPv4 record: ${JSON.stringify(dualPeers)}`);
      assert.deepEqual(dualPeers.map((p) => p.port).sort(), [6006, 6007]);
      assert.equal(asNumber(dual.get('incomplete')), 4);
    } finally {
      await t.close();
    }
  });
});
