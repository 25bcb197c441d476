/** The store's figures with the browser (WebSocket) peers added: the largest swarms. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactAddr } from '../../src/protocol/peers.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { StoreWithWsPeers } from '../../src/service/store-with-ws-peers.js';
import { WsSwarms, type WsConn } from '../../src/service/ws-swarms.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const id = (s: string): string => s.padEnd(20, '.');
let nextConn = 0;
const conn = (): WsConn => ({ id: nextConn++, swarms: new Map(), send: () => {} });

test('the largest swarms count browser peers: a browser-only swarm is listed, browsers lift a swarm past the store-only ones', async () => {
  const clock = new ManualClock();
  const now = clock.now();
  const inner = new MemoryStore({ peerTtl: 1000 });
  const ws = new WsSwarms({ maxSwarmsPerConn: 100, peerTtl: 1000 });
  const store = new StoreWithWsPeers(inner, ws, clock);
  const tcp = (hash: string, peers: number, seeders = 0): void => {
    for (let i = 0; i < peers; i++) {
      inner.announce({ infoHash: id(hash), peerId: id(`${hash}-${i}`), addr: compactAddr('\x7f\x00\x00\x01', 1000 + i), seeder: i < seeders, event: 'started', numwant: 0 }, now);
    }
  };
  const browsers = (hash: string, peers: number, seeders = 0): void => {
    for (let i = 0; i < peers; i++) {
      ws.announce(conn(), { action: 'announce', infoHash: id(hash), peerId: id(`w${hash}-${i}`), left: i < seeders ? 0 : 5, event: 'started', offers: [] }, now);
    }
  };
  // Twelve store swarms of 20, 22, .. 42 peers; the store's top ten are t2..t11.
  for (let n = 0; n < 12; n++) tcp(`t${n}`, 20 + 2 * n);
  // t0 (20 peers, not in the store's top ten) has 30 browsers too: 50 in all, the largest.
  browsers('t0', 30, 10);
  // A swarm of browsers only, 29 of them: between t4 (28) and t5 (30).
  browsers('onlyws', 29, 5);
  // Browsers in a top swarm add to it: t11 (42) + 1 = 43.
  browsers('t11', 1);
  await store.sweep(now, 1_000_000);

  const top = await store.topSwarms();
  assert.equal(top.length, 10);
  assert.deepEqual(top[0], { infoHash: id('t0'), peers: 50, complete: 10, incomplete: 40, downloaded: 0 });
  assert.deepEqual(top[1], { infoHash: id('t11'), peers: 43, complete: 0, incomplete: 43, downloaded: 0 });
  const names = top.map((s) => s.infoHash.replace(/\.+$/, ''));
  assert.deepEqual(names, ['t0', 't11', 't10', 't9', 't8', 't7', 't6', 't5', 'onlyws', 't4']);
  assert.deepEqual(
    top.find((s) => s.infoHash === id('onlyws')),
    { infoHash: id('onlyws'), peers: 29, complete: 5, incomplete: 24, downloaded: 0 },
  );
  // Largest first throughout.
  for (let i = 1; i < top.length; i++) assert.ok(top[i - 1]!.peers >= top[i]!.peers);

  // No browsers: the store's own list, as it is.
  const none = new StoreWithWsPeers(inner, new WsSwarms({ maxSwarmsPerConn: 100, peerTtl: 1000 }), clock);
  assert.deepEqual(await none.topSwarms(), inner.topSwarms());
});
