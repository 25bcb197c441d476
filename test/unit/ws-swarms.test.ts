/** The WebSocket swarm registry: who gets each offer, who may answer, who counts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WsAnnounce } from '../../src/protocol/websocket.js';
import { OFFER_TTL, WsSwarms, type WsConn } from '../../src/service/ws-swarms.js';

const id = (s: string): string => s.padEnd(20, '.');
const HASH = id('swarm');

function conn(n: number, inbox: Map<number, string[]>): WsConn {
  inbox.set(n, []);
  return { id: n, swarms: new Map(), send: (text) => inbox.get(n)!.push(text) };
}

function announce(peer: string, more: Partial<WsAnnounce> = {}): WsAnnounce {
  return { action: 'announce', infoHash: HASH, peerId: id(peer), left: 10, event: 'started', offers: [], ...more };
}

const offers = (n: number, tag: string): WsAnnounce['offers'] => Array.from({ length: n }, (_, i) => ({ offer: { type: 'offer', sdp: `${tag}${i}` }, offerId: id(`${tag}-${i}`) }));

test('ten offers go to ten different other members; a seeder offers to leechers only; rotation reaches everyone', () => {
  const inbox = new Map<number, string[]>();
  const swarms = new WsSwarms({ maxSwarmsPerConn: 10, peerTtl: 100 });
  const conns = Array.from({ length: 50 }, (_, i) => conn(i, inbox));
  conns.forEach((c, i) => swarms.announce(c, announce(`p${i}`, { left: i < 10 ? 0 : 5 }), 1000));
  assert.deepEqual(swarms.counts(HASH), { complete: 10, incomplete: 40, downloaded: 0 });
  const sender = conns[20]!;
  swarms.announce(sender, announce('p20', { offers: offers(10, 'a'), event: 'none' }), 1000);
  const got = [...inbox].filter(([, msgs]) => msgs.length > 0).map(([n]) => n);
  assert.equal(got.length, 10, 'ten recipients, one offer each');
  assert.ok(!got.includes(20), 'never the sender');
  for (const m of inbox.values()) m.length = 0;
  // A seeder (p0) offers: leechers only.
  swarms.announce(conns[0]!, announce('p0', { left: 0, event: 'none', offers: offers(10, 'b') }), 1000);
  const toSeeders = [...inbox].filter(([n, msgs]) => n < 10 && msgs.length > 0);
  assert.deepEqual(toSeeders, [], 'no offer from a seeder to a seeder');
  // Successive announces of one peer reach every other member in a few rounds.
  const reached = new Set<number>();
  for (let round = 0; round < 6; round++) {
    for (const m of inbox.values()) m.length = 0;
    swarms.announce(sender, announce('p20', { event: 'none', offers: offers(10, `r${round}`) }), 1000);
    for (const [n, msgs] of inbox) if (msgs.length > 0) reached.add(n);
  }
  assert.equal(reached.size, 49, 'everyone but the sender within six announces');
});

test('an answer is passed on once, only by the connection the offer went to, only within OFFER_TTL', () => {
  const inbox = new Map<number, string[]>();
  const swarms = new WsSwarms({ maxSwarmsPerConn: 10, peerTtl: 1000 });
  const [a, b, c] = [conn(1, inbox), conn(2, inbox), conn(3, inbox)];
  swarms.announce(a, announce('A'), 1000);
  swarms.announce(b, announce('B', { offers: offers(1, 'x') }), 1000);
  assert.equal(inbox.get(1)!.length, 1);
  const answer = { action: 'answer' as const, infoHash: HASH, peerId: id('A'), toPeerId: id('B'), offerId: id('x-0'), answer: { type: 'answer', sdp: 's' } };
  assert.throws(() => swarms.answer(c, { ...answer, peerId: id('C') }, 1001), /did not send you/);
  swarms.answer(a, answer, 1001);
  assert.equal(inbox.get(2)!.length, 1, 'B has its answer');
  assert.throws(() => swarms.answer(a, answer, 1002), /did not send you/, 'once');
  // An answer that names another answerer than the peer the offer went to is refused.
  swarms.announce(b, announce('B', { event: 'none', offers: offers(1, 'w') }), 1001);
  assert.equal(inbox.get(1)!.length, 2, 'A has the second offer');
  assert.throws(() => swarms.answer(a, { ...answer, offerId: id('w-0'), peerId: id('SPOOFED') }, 1001), /did not send you/, 'answerer peer id');
  // Within OFFER_TTL an answer passes; at OFFER_TTL it is too late (both offers reach A: it re-announced).
  swarms.announce(a, announce('A', { event: 'none' }), 2000);
  swarms.announce(b, announce('B', { event: 'none', offers: offers(1, 'y') }), 2000);
  swarms.announce(b, announce('B', { event: 'none', offers: offers(1, 'z') }), 2000);
  assert.equal(inbox.get(1)!.length, 4, 'A has both offers');
  const before = inbox.get(2)!.length;
  swarms.answer(a, { ...answer, offerId: id('z-0') }, 2000 + OFFER_TTL - 1);
  assert.equal(inbox.get(2)!.length, before + 1, 'just in time');
  assert.throws(() => swarms.answer(a, { ...answer, offerId: id('y-0') }, 2000 + OFFER_TTL), /did not send you/, 'too late');
  // A closed connection has left every swarm.
  swarms.leave(b);
  assert.deepEqual(swarms.counts(HASH), { complete: 0, incomplete: 1, downloaded: 0 });
  assert.deepEqual(swarms.totals, { torrents: 1, peers: 1, seeders: 0 });
});

test('a peer that comes back on a new connection, alone in its swarm, is in the swarm and counted once; every swarm of a closed connection is left', () => {
  const inbox = new Map<number, string[]>();
  const swarms = new WsSwarms({ maxSwarmsPerConn: 10, peerTtl: 1000 });
  const [old, fresh, other] = [conn(1, inbox), conn(2, inbox), conn(3, inbox)];
  swarms.announce(old, announce('A', { left: 0 }), 1000);
  // The old connection is still open (its ping not yet missed) when the browser reconnects.
  assert.deepEqual(swarms.announce(fresh, announce('A', { left: 0 }), 1001), { complete: 1, incomplete: 0, downloaded: 0 });
  assert.ok(swarms.has(HASH));
  assert.deepEqual(swarms.totals, { torrents: 1, peers: 1, seeders: 1 });
  // It can be offered to: its swarm is the one in the registry.
  swarms.announce(other, announce('L', { offers: offers(1, 'o') }), 1002);
  assert.equal(inbox.get(2)!.length, 1, 'the reconnected peer got the offer');
  assert.equal(inbox.get(1)!.length, 0, 'the stale connection did not');
  swarms.leave(old);
  swarms.leave(other);
  // One connection, alone in a swarm, announces a new peer id there.
  const solo = conn(4, inbox);
  const h2 = id('second');
  swarms.announce(solo, announce('S1', { infoHash: h2 }), 1003);
  assert.deepEqual(swarms.announce(solo, announce('S2', { infoHash: h2 }), 1004), { complete: 0, incomplete: 1, downloaded: 0 });
  // The fresh connection joins two more swarms; closing it leaves all three.
  for (const h of ['third', 'fourth']) swarms.announce(fresh, announce('A', { infoHash: id(h) }), 1005);
  assert.deepEqual(swarms.totals, { torrents: 4, peers: 4, seeders: 1 });
  swarms.leave(fresh);
  swarms.leave(solo);
  assert.deepEqual(swarms.totals, { torrents: 0, peers: 0, seeders: 0 });
  assert.ok(swarms.empty);
});
