/** The real tracker on ephemeral ports, spoken to over real UDP (BEP 15). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeCompactPeers } from '../../src/protocol/peers.js';
import type { AnnounceRequest } from '../../src/protocol/types.js';
import {
  decodeResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  type UdpResponse,
} from '../../src/protocol/udp.js';
import { hasLoopback6, id20, prng, UdpClient } from '../helpers.js';
import { needsClock, startTarget, targetSkip, type Target } from '../target.js';

let nextTx = 1;

async function connect(client: UdpClient): Promise<Buffer> {
  const tx = nextTx++;
  const reply = decodeResponse(await client.request(encodeConnectRequest(tx)));
  assert.equal(reply.action, 'connect');
  assert.equal(reply.transactionId, tx);
  return reply.action === 'connect' ? reply.connectionId : Buffer.alloc(0);
}

function announce(hash: string, peer: string, port: number, more: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return { infoHash: hash, peerId: peer, port, downloaded: 0, uploaded: 0, left: 100, event: 'started', numwant: null, ...more };
}

async function udpAnnounce(client: UdpClient, connectionId: Buffer, req: AnnounceRequest): Promise<UdpResponse> {
  const tx = nextTx++;
  const reply = decodeResponse(await client.request(encodeAnnounceRequest({ connectionId, transactionId: tx, announce: req, key: 1 })));
  assert.equal(reply.transactionId, tx);
  return reply;
}


describe('UDP tracker', { skip: targetSkip }, () => {
  let t: Target;
  let client: UdpClient;
  before(async () => {
    t = await startTarget({ interval: 900 });
    client = new UdpClient(t.udpPort);
  });
  after(async () => {
    client.close();
    await t.close();
  });

  test('connect, then two peers announce and find each other', async () => {
    const cid = await connect(client);
    assert.equal(cid.length, 8);
    const hash = id20('udp-pair');
    const first = await udpAnnounce(client, cid, announce(hash, id20('A'), 6001));
    assert.ok(first.action === 'announce');
    assert.equal(first.peers.length, 0);
    assert.equal(first.interval, 900);
    const second = await udpAnnounce(client, cid, announce(hash, id20('B'), 6002, { left: 0 }));
    assert.ok(second.action === 'announce');
    assert.deepEqual(decodeCompactPeers(second.peers, 4), [{ ip: '127.0.0.1', port: 6001 }]);
    assert.equal(second.seeders, 1);
    assert.equal(second.leechers, 1);
  });

  test('multi-hash scrape answers in request order', async () => {
    const cid = await connect(client);
    const h1 = id20('udp-s1');
    const h2 = id20('udp-s2');
    await udpAnnounce(client, cid, announce(h1, id20('S'), 6001, { left: 0 }));
    await udpAnnounce(client, cid, announce(h1, id20('C'), 6002, { left: 0, event: 'completed' }));
    const reply = decodeResponse(await client.request(encodeScrapeRequest(cid, 77, [h2, h1])));
    assert.deepEqual(reply, {
      action: 'scrape',
      transactionId: 77,
      files: [
        { complete: 0, downloaded: 0, incomplete: 0 },
        { complete: 2, downloaded: 1, incomplete: 0 },
      ],
    });
    const tooMany = decodeResponse(await client.request(encodeScrapeRequest(cid, 78, [1, 2, 3, 4, 5, 6].map((i) => id20(`x${i}`)))));
    assert.equal(tooMany.action, 'error');
    assert.ok(tooMany.action === 'error' && /too many info_hashes/.test(tooMany.message));
  });

  test('stopped removes the peer', async () => {
    const cid = await connect(client);
    const hash = id20('udp-stop');
    await udpAnnounce(client, cid, announce(hash, id20('A'), 6001));
    const stopped = await udpAnnounce(client, cid, announce(hash, id20('A'), 6001, { event: 'stopped' }));
    assert.ok(stopped.action === 'announce');
    assert.equal(stopped.leechers, 0);
  });

  test('an unknown or expired connection id gets an action 3 error', { skip: needsClock }, async () => {
    const bogus = decodeResponse(
      await client.request(encodeAnnounceRequest({ connectionId: Buffer.alloc(8, 7), transactionId: 5, announce: announce(id20('h'), id20('p'), 1), key: 0 })),
    );
    assert.deepEqual(bogus, { action: 'error', transactionId: 5, message: 'invalid connection id' });
    const cid = await connect(client);
    t.clock().advance(120);
    assert.equal((await udpAnnounce(client, cid, announce(id20('h'), id20('p'), 1))).action, 'announce', 'valid for 2 minutes');
    t.clock().advance(1);
    const expired = await udpAnnounce(client, cid, announce(id20('h'), id20('p'), 1));
    assert.ok(expired.action === 'error' && expired.message === 'invalid connection id');
  });

  test('a connection id is bound to the address it was issued to', async () => {
    const cid = await connect(client);
    const other = new UdpClient(t.udpPort, '127.0.0.1', '127.0.0.2');
    try {
      const reply = await udpAnnounce(other, cid, announce(id20('h'), id20('p'), 1));
      assert.ok(reply.action === 'error' && reply.message === 'invalid connection id');
      const own = await connect(other);
      assert.equal((await udpAnnounce(other, own, announce(id20('h'), id20('p'), 1))).action, 'announce');
    } finally {
      other.close();
    }
  });

  test('truncated and random packets never stop the tracker', async () => {
    const cid = await connect(client);
    const valid = encodeAnnounceRequest({ connectionId: cid, transactionId: 9, announce: announce(id20('fz'), id20('fz'), 9), key: 0 });
    // Truncations of a valid announce: < 16 bytes are dropped silently, the rest get an error.
    for (let len = 0; len < valid.length; len++) client.send(valid.subarray(0, len));
    const random = prng(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(random() * 200);
      const packet = Buffer.alloc(len);
      for (let j = 0; j < len; j++) packet[j] = Math.floor(random() * 256);
      // Half of them look like real requests (valid connection id, known action) with junk after.
      if (i % 2 === 0 && len >= 16) {
        cid.copy(packet, 0);
        packet.writeUInt32BE(Math.floor(random() * 4), 8);
      }
      client.send(packet);
    }
    // Drain whatever errors came back, then a valid request must still succeed.
    while (!(await client.silentFor(300))) {
      /* drain */
    }
    const ok = await udpAnnounce(client, await connect(client), announce(id20('after'), id20('after'), 9));
    assert.equal(ok.action, 'announce');
    assert.equal(t.logLines().filter((l) => l['level'] === 50).length, 0, 'no internal errors logged');
  });
});

describe('UDP over IPv6', { skip: targetSkip || (hasLoopback6 ? false : 'this machine has no ::1') }, () => {
  test('announce replies carry 18-byte peers, IPv4 peers ::ffff:-mapped', async () => {
    const t = await startTarget({ host: null, ipv6: true });
    const c4 = new UdpClient(t.port('udp', 4), '127.0.0.1');
    const c6 = new UdpClient(t.port('udp', 6), '::1');
    try {
      const hash = id20('udp6');
      await udpAnnounce(c4, await connect(c4), announce(hash, id20('four'), 6004));
      const cid6 = await connect(c6);
      await udpAnnounce(c6, cid6, announce(hash, id20('six'), 6006));
      const reply = await udpAnnounce(c6, cid6, announce(hash, id20('six-b'), 6007));
      assert.ok(reply.action === 'announce');
      assert.equal(reply.peers.length, 36);
      assert.deepEqual(
        decodeCompactPeers(reply.peers, 6).sort((a, b) => a.port - b.port),
        [
          { ip: '::ffff:127.0.0.1', port: 6004 },
          { ip: '::1', port: 6006 },
        ],
      );
    } finally {
      c4.close();
      c6.close();
      await t.close();
    }
  });
});
