/** Floods, limits and client-supplied addresses, against the real tracker over real sockets. */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { decode } from '../../src/protocol/bencode.js';
import { percentEncode } from '../../src/protocol/http.js';
import { decodeCompactPeers } from '../../src/protocol/peers.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from '../../src/protocol/udp.js';
import { asBytes, asDict, httpGet, id20, startTestTracker, trackerGet, UdpClient, waitFor } from '../helpers.js';

function announcePath(hash: string, peer: string, port: number, extra = ''): string {
  return `/announce?info_hash=${percentEncode(hash)}&peer_id=${percentEncode(peer)}&port=${port}&left=1${extra}`;
}

describe('--max-torrents', () => {
  test('announces for new torrents beyond the cap are refused over HTTP and UDP, and counted', async () => {
    const t = await startTestTracker({ maxTorrents: 3 });
    const udp = new UdpClient(t.udpPort);
    try {
      for (let i = 0; i < 3; i++) await trackerGet(t.httpPort, announcePath(id20(`t${i}`), id20('p'), 6000));
      const refused = await trackerGet(t.httpPort, announcePath(id20('t-new'), id20('p'), 6000));
      assert.match(asBytes(refused.get('failure reason')).toString(), /this tracker is full/);
      const known = await trackerGet(t.httpPort, announcePath(id20('t0'), id20('q'), 6001));
      assert.equal(known.get('incomplete'), 2, 'known torrents keep working');
      const c = decodeResponse(await udp.request(encodeConnectRequest(1)));
      assert.ok(c.action === 'connect');
      const announce = { infoHash: id20('t-udp'), peerId: id20('u'), port: 1, uploaded: 0, downloaded: 0, left: 1, event: 'started' as const, numwant: null };
      const r = decodeResponse(await udp.request(encodeAnnounceRequest({ connectionId: c.connectionId, transactionId: 2, announce, key: 0 })));
      assert.ok(r.action === 'error' && /this tracker is full/.test(r.message));
      assert.equal(t.tracker.stats.activity().periods.today.refused_announces, 2);
    } finally {
      udp.close();
      await t.tracker.close();
    }
  });

  test('a flood of distinct info_hashes stops growing at the cap', async () => {
    const t = await startTestTracker({ maxTorrents: 1000 });
    try {
      for (let i = 0; i < 1500; i++) await httpGet(t.httpPort, announcePath(id20(`flood${i}`), id20('p'), 6000));
      assert.equal((await t.tracker.store.totals(t.clock.now())).torrents, 1000);
      assert.equal(t.tracker.stats.activity().periods.today.refused_announces, 500);
    } finally {
      await t.tracker.close();
    }
  });
});

describe('client-supplied addresses', () => {
  test('the ip/ipv4/ipv6 parameters are ignored: the peer is where its packets come from', async () => {
    const t = await startTestTracker();
    try {
      const hash = id20('spoof');
      await trackerGet(t.httpPort, announcePath(hash, id20('liar'), 6001, '&ip=203.0.113.9&ipv4=203.0.113.9&ipv6=2001:db8::9'));
      const out = await trackerGet(t.httpPort, announcePath(hash, id20('other'), 6002));
      assert.deepEqual(decodeCompactPeers(asBytes(out.get('peers')), 4), [{ ip: '127.0.0.1', port: 6001 }]);
    } finally {
      await t.tracker.close();
    }
  });

  test('the UDP IP field is ignored', async () => {
    const t = await startTestTracker();
    const udp = new UdpClient(t.udpPort);
    try {
      const c = decodeResponse(await udp.request(encodeConnectRequest(1)));
      assert.ok(c.action === 'connect');
      const announce = { infoHash: id20('udp-spoof'), peerId: id20('liar'), port: 6001, uploaded: 0, downloaded: 0, left: 1, event: 'started' as const, numwant: null };
      const packet = encodeAnnounceRequest({ connectionId: c.connectionId, transactionId: 2, announce, key: 0 });
      packet.set([203, 0, 113, 9], 84);
      await udp.request(packet);
      const out = await trackerGet(t.httpPort, announcePath(id20('udp-spoof'), id20('other'), 6002));
      assert.deepEqual(decodeCompactPeers(asBytes(out.get('peers')), 4), [{ ip: '127.0.0.1', port: 6001 }]);
    } finally {
      udp.close();
      await t.tracker.close();
    }
  });

  test('X-Forwarded-For / X-Real-IP only from --trust-proxy, right-most untrusted entry', async () => {
    const hash = id20('xff');
    const peersSeen = async (port: number, headers: Record<string, string>, peer: string, p: number): Promise<{ ip: string; port: number }[]> => {
      await httpGet(port, announcePath(hash, id20(peer), p), headers);
      const out = asDict(decode((await httpGet(port, announcePath(hash, id20('probe'), 9999))).body));
      return decodeCompactPeers(asBytes(out.get('peers')), 4).filter((x) => x.port === p);
    };
    const untrusted = await startTestTracker();
    try {
      assert.deepEqual(await peersSeen(untrusted.httpPort, { 'X-Forwarded-For': '198.51.100.7' }, 'a', 7001), [{ ip: '127.0.0.1', port: 7001 }], 'not a trusted proxy: header ignored');
    } finally {
      await untrusted.tracker.close();
    }
    const t = await startTestTracker({ trustProxy: ['127.0.0.0/8', '10.0.0.0/8'] });
    try {
      // The client wrote 192.0.2.66 itself; the proxies appended 198.51.100.7 and 10.1.1.1.
      assert.deepEqual(await peersSeen(t.httpPort, { 'X-Forwarded-For': '192.0.2.66, 198.51.100.7, 10.1.1.1' }, 'b', 7002), [{ ip: '198.51.100.7', port: 7002 }]);
      assert.deepEqual(await peersSeen(t.httpPort, { 'X-Real-IP': '198.51.100.8' }, 'c', 7003), [{ ip: '198.51.100.8', port: 7003 }]);
      const bad = asDict(decode((await httpGet(t.httpPort, announcePath(hash, id20('d'), 7004), { 'X-Forwarded-For': 'not-an-ip' })).body));
      assert.match(asBytes(bad.get('failure reason')).toString(), /X-Forwarded-For/);
    } finally {
      await t.tracker.close();
    }
    await assert.rejects(startTestTracker({ trustProxy: ['10.0.0.0/99'] }), /--trust-proxy/);
  });
});

describe('HTTP connection limits', () => {
  test('1,000 idle connections and slowloris senders do not stop announces; slow headers are cut', async () => {
    const t = await startTestTracker({}, { http: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, checkIntervalMs: 200, idleTimeoutMs: 60_000 } });
    const sockets: Socket[] = [];
    try {
      await Promise.all(
        Array.from({ length: 1000 }, () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(t.httpPort, '127.0.0.1', () => resolve());
            s.on('error', reject);
            sockets.push(s);
          }),
        ),
      );
      // Half of them trickle a request line, one byte at a time.
      for (const s of sockets.slice(0, 500)) s.write('GET /announce?info_hash=');
      const ok = await trackerGet(t.httpPort, announcePath(id20('busy'), id20('p'), 6000));
      assert.equal(ok.get('incomplete'), 1);
      const slow = sockets[0]!;
      const closed = new Promise<string>((resolve) => {
        let data = '';
        slow.on('data', (c: Buffer) => (data += c.toString()));
        slow.on('close', () => resolve(data));
      });
      assert.match(await closed, /^HTTP\/1\.1 408 /, 'cut after the headers timeout');
    } finally {
      for (const s of sockets) s.destroy();
      await t.tracker.close();
    }
  });

  test('a connection cap refuses connections beyond it and keeps serving', async () => {
    const t = await startTestTracker({ maxConnections: 5 });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) sockets.push(await new Promise<Socket>((resolve) => { const s = connect(t.httpPort, '127.0.0.1', () => resolve(s)); }));
      const extra = connect(t.httpPort, '127.0.0.1');
      await new Promise<void>((resolve) => extra.on('close', () => resolve()));
      for (const s of sockets) s.destroy();
      await waitFor(async () => (await httpGet(t.httpPort, '/scrape').then((r) => r.status).catch(() => 0)) === 200, 5000, 'service after the cap');
    } finally {
      for (const s of sockets) s.destroy();
      await t.tracker.close();
    }
  });

  test('an oversized request target is 414 before any parsing', async () => {
    const t = await startTestTracker();
    try {
      const reply = await httpGet(t.httpPort, `/announce?x=${'a'.repeat(9000)}`);
      assert.equal(reply.status, 414);
    } finally {
      await t.tracker.close();
    }
  });
});

describe('UDP floods and amplification', () => {
  test('a connect flood from 512 source addresses creates no server state', async () => {
    const t = await startTestTracker();
    const clients: UdpClient[] = [];
    try {
      const heapBefore = process.memoryUsage().heapUsed;
      for (let i = 0; i < 512; i++) clients.push(new UdpClient(t.udpPort, '127.0.0.1', `127.${1 + (i >> 8)}.${i & 0xff}.${1 + (i % 200)}`));
      // In waves of 32: a burst of 512 datagrams can overflow a socket buffer on loopback, as on any network.
      for (let i = 0; i < clients.length; i += 32) {
        const replies = await Promise.all(clients.slice(i, i + 32).map(async (c, j) => decodeResponse(await c.request(encodeConnectRequest(i + j)))));
        assert.ok(replies.every((r) => r.action === 'connect'));
      }
      assert.deepEqual(await t.tracker.store.totals(t.clock.now()), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
      // Nothing per client is kept: connection ids are a keyed hash, verified statelessly.
      assert.ok(process.memoryUsage().heapUsed - heapBefore < 20_000_000);
    } finally {
      for (const c of clients) c.close();
      await t.tracker.close();
    }
  });

  test('no reply is larger than the request unless the sender holds a valid connection id; scrapes are capped', async () => {
    const t = await startTestTracker({ maxScrapeHashes: 1000 });
    const udp = new UdpClient(t.udpPort);
    try {
      const probes: Buffer[] = [
        encodeConnectRequest(1),
        Buffer.concat([Buffer.alloc(8), Buffer.from([0, 0, 0, 0, 0, 0, 0, 2])]), // connect with a bad protocol id
        Buffer.concat([Buffer.alloc(8, 7), Buffer.from([0, 0, 0, 9, 0, 0, 0, 3])]), // unknown action
        encodeScrapeRequest(Buffer.alloc(8, 7), 4, [id20('x')]), // unknown connection id
        encodeAnnounceRequest({ connectionId: Buffer.alloc(8, 7), transactionId: 5, key: 0, announce: { infoHash: id20('x'), peerId: id20('y'), port: 1, uploaded: 0, downloaded: 0, left: 1, event: 'none', numwant: 200 } }),
      ];
      for (const probe of probes) {
        const reply = await udp.request(probe);
        assert.ok(reply.length <= probe.length, `${reply.length}-byte reply to a ${probe.length}-byte request`);
      }
      const c = decodeResponse(await udp.request(encodeConnectRequest(9)));
      assert.ok(c.action === 'connect');
      const many = Array.from({ length: 75 }, (_, i) => id20(`s${i}`));
      const capped = decodeResponse(await udp.request(encodeScrapeRequest(c.connectionId, 10, many)));
      assert.ok(capped.action === 'error' && /at most 74/.test(capped.message));
      const fits = decodeResponse(await udp.request(encodeScrapeRequest(c.connectionId, 11, many.slice(0, 74))));
      assert.ok(fits.action === 'scrape' && fits.files.length === 74);
    } finally {
      udp.close();
      await t.tracker.close();
    }
  });
});
