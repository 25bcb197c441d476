import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactAddr, entryPeerId, peerSetEntries, type PeerEntry } from '../../src/protocol/peers.js';
import type { AnnounceEvent, SwarmCounts } from '../../src/protocol/types.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoreAnnounce } from '../../src/store/store.js';

const HASH = 'h'.repeat(20);

/** The store's announce, which must not have been refused; its peers as entries. */
function announce(store: MemoryStore, input: StoreAnnounce, now: number): SwarmCounts & { peers: PeerEntry[] } {
  const out = store.announce(input, now);
  assert.ok(out !== null, 'refused');
  return { complete: out.complete, incomplete: out.incomplete, downloaded: out.downloaded, peers: peerSetEntries(out.peers) };
}
const T0 = 1_000_000;

function v4(i: number): string {
  return compactAddr(String.fromCharCode(10, 0, (i >> 8) & 0xff, i & 0xff), 6881);
}
function v6(i: number): string {
  return compactAddr('\x20\x01\x0d\xb8' + '\x00'.repeat(10) + String.fromCharCode((i >> 8) & 0xff, i & 0xff), 6881);
}
function peerId(i: number): string {
  return `peer${i}`.padEnd(20, '.');
}
function ann(i: number, opts: Partial<StoreAnnounce> & { event?: AnnounceEvent } = {}): StoreAnnounce {
  return { infoHash: HASH, peerId: peerId(i), addr: v4(i), seeder: false, event: 'started', numwant: 50, peerIds: true, ...opts };
}

test('counts seeders, leechers and completed downloads', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  announce(store, ann(1), T0);
  announce(store, ann(2, { seeder: true }), T0);
  let out = announce(store, ann(3), T0);
  assert.deepEqual([out.complete, out.incomplete, out.downloaded], [1, 2, 0]);
  out = announce(store, ann(3, { seeder: true, event: 'completed' }), T0); // leecher becomes seeder
  assert.deepEqual([out.complete, out.incomplete, out.downloaded], [2, 1, 1]);
  assert.deepEqual(store.totals(T0), { torrents: 1, peers: 3, seeders: 2, leechers: 1 });
  out = announce(store, ann(3, { seeder: true, event: 'completed' }), T0); // a repeat is not a new download
  assert.equal(out.downloaded, 1);
  out = announce(store, ann(9, { seeder: true, event: 'completed' }), T0); // unknown peer (tracker restarted)
  assert.equal(out.downloaded, 2);
});

test('a peer never receives itself; seeders receive only leechers', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  for (let i = 0; i < 5; i++) announce(store, ann(i, { seeder: i < 2 }), T0);
  const leecher = announce(store, ann(4), T0);
  assert.equal(leecher.peers.length, 4);
  assert.ok(leecher.peers.every((p) => entryPeerId(p) !== peerId(4)));
  const seeder = announce(store, ann(0, { seeder: true }), T0);
  assert.deepEqual(new Set(seeder.peers.map((p) => entryPeerId(p))), new Set([peerId(2), peerId(3), peerId(4)]));
});

test('numwant caps the list and selection is spread over the swarm', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  for (let i = 0; i < 100; i++) announce(store, ann(i), T0);
  const seen = new Set<string>();
  for (let k = 0; k < 20; k++) {
    const out = announce(store, ann(0, { numwant: 10 }), T0);
    assert.equal(out.peers.length, 10);
    assert.equal(new Set(out.peers.map((p) => entryPeerId(p))).size, 10, 'no duplicates');
    for (const p of out.peers) seen.add(entryPeerId(p));
  }
  assert.equal(seen.size, 99, 'successive lists rotate through the whole swarm');
  assert.equal(announce(store, ann(0, { numwant: 0 }), T0).peers.length, 0);
});

test('IPv4 clients get IPv4 peers; IPv6 clients get both', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  announce(store, ann(1), T0);
  announce(store, ann(2, { addr: v6(2) }), T0);
  const four = announce(store, ann(3), T0);
  assert.deepEqual(four.peers.map((p) => entryPeerId(p)), [peerId(1)]);
  const six = announce(store, ann(4, { addr: v6(4) }), T0);
  assert.deepEqual(new Set(six.peers.map((p) => entryPeerId(p))), new Set([peerId(1), peerId(2), peerId(3)]));
});

test('stopped removes the peer; an empty torrent is removed', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  announce(store, ann(1), T0);
  announce(store, ann(2), T0);
  const out = announce(store, ann(1, { event: 'stopped' }), T0);
  assert.deepEqual([out.incomplete, out.peers.length], [1, 0]);
  announce(store, ann(2, { event: 'stopped' }), T0);
  assert.deepEqual(store.totals(T0), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
  assert.deepEqual(store.scrape([HASH], T0), [{ infoHash: HASH, complete: 0, incomplete: 0, downloaded: 0 }]);
});

test('peers expire after the TTL; a re-announce keeps a peer alive', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  announce(store, ann(1), T0);
  announce(store, ann(2), T0);
  announce(store, ann(1), T0 + 60); // 1 re-announces
  const out = announce(store, ann(3), T0 + 101); // 2 is now past its TTL
  assert.deepEqual(out.peers.map((p) => entryPeerId(p)), [peerId(1)]);
  assert.equal(out.incomplete, 2);
  assert.deepEqual(store.scrape([HASH], T0 + 161)[0], { infoHash: HASH, complete: 0, incomplete: 1, downloaded: 0 });
});

test('the sweeper does a bounded amount of work per slice and finishes its pass', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  for (let t = 0; t < 10; t++) {
    for (let i = 0; i < 3; i++) announce(store, { ...ann(i), infoHash: `t${t}`.padEnd(20, '-') }, T0);
  }
  const later = T0 + 200;
  let removed = 0;
  for (let slice = 0; slice < 100; slice++) {
    const n = store.sweep(later, 4).removed;
    assert.ok(n <= 3, `a slice of 4 units visits a torrent and removes at most 3 peers, removed ${n}`);
    removed += n;
    if (removed === 30) break;
  }
  assert.equal(removed, 30);
  assert.deepEqual(store.scrapeAll(later), []);
});

test('a mass expiry inside one huge swarm: one scan purges it, counted as work; its records are reused', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  for (let i = 0; i < 1000; i++) announce(store, { ...ann(i), addr: v4(i) }, T0);
  const bytes = store.arenaBytes;
  const later = T0 + 200;
  // Before any sweep: nothing expired is counted or handed out.
  const out = announce(store, { ...ann(5000), infoHash: 'big'.padEnd(20, '-') }, later);
  assert.equal(out.peers.length, 0);
  assert.deepEqual(store.scrape([HASH], later), [{ infoHash: HASH, complete: 0, incomplete: 0, downloaded: 0 }], 'the scrape purged it');
  for (let i = 0; i < 1000; i++) announce(store, { ...ann(i), addr: v4(i), infoHash: 'two'.padEnd(20, '-') }, later);
  const r = store.sweep(later + 200, 10);
  // 'two' (1,000 peers) and 'big' (1) expire together; whichever comes first, 'two' is purged whole in one visit.
  assert.ok(r.removed >= 1000 && r.work > r.removed, `a whole swarm per visit, each peer a unit of work (${r.removed} removed, ${r.work} units)`);
  // The freed records serve the next swarm of the same size: no new arena memory.
  for (let i = 0; i < 1000; i++) announce(store, { ...ann(i), addr: v4(i), infoHash: 'new'.padEnd(20, '-') }, later + 200);
  assert.ok(store.arenaBytes <= bytes * 2, `arena ${store.arenaBytes} bytes (was ${bytes})`);
});

test('a sweep of the whole store starts from the top', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  for (let t = 0; t < 5; t++) announce(store, { ...ann(1), infoHash: `t${t}`.padEnd(20, '-') }, T0);
  store.sweep(T0, 2); // a partial pass that removes nothing
  assert.equal(store.sweep(T0 + 200, Number.MAX_SAFE_INTEGER).removed, 5);
});

test('full scrape lists live torrents only', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  announce(store, ann(1), T0);
  announce(store, { ...ann(1), infoHash: 'x'.repeat(20) }, T0 + 50);
  assert.deepEqual(store.scrapeAll(T0 + 120), [{ infoHash: 'x'.repeat(20), complete: 0, incomplete: 1, downloaded: 0 }]);
});

test('live totals never count expired peers, swept or not', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  announce(store, ann(1), T0);
  announce(store, ann(2, { seeder: true }), T0 + 10);
  announce(store, { ...ann(3), infoHash: 'other'.padEnd(20, '-') }, T0 + 20);
  assert.deepEqual(store.totals(T0 + 20), { torrents: 2, peers: 3, seeders: 1, leechers: 2 });
  assert.deepEqual(store.totals(T0 + 99), { torrents: 2, peers: 3, seeders: 1, leechers: 2 });
  // Peer 1 expires at T0 + 100 although nothing has swept it.
  assert.deepEqual(store.totals(T0 + 100), { torrents: 2, peers: 2, seeders: 1, leechers: 1 });
  assert.deepEqual(store.totals(T0 + 110), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
  // Re-announces move a peer; a role change moves it between seeders and leechers.
  announce(store, ann(2, { seeder: false }), T0 + 115);
  assert.deepEqual(store.totals(T0 + 115), { torrents: 2, peers: 2, seeders: 0, leechers: 2 });
  // Sweeping changes nothing about live figures.
  store.sweep(T0 + 115, 100);
  assert.deepEqual(store.totals(T0 + 115), { torrents: 2, peers: 2, seeders: 0, leechers: 2 });
  announce(store, ann(2, { event: 'stopped' }), T0 + 116);
  assert.deepEqual(store.totals(T0 + 116), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
  assert.deepEqual(store.totals(T0 + 10_000), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
});

test('a torrent stays live while any of its peers is; the newest leaving hands over to the next', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  announce(store, ann(1), T0);
  announce(store, ann(2), T0 + 50);
  announce(store, ann(2, { event: 'stopped' }), T0 + 60); // the newest leaves; peer 1 (T0) remains
  assert.equal(store.totals(T0 + 99).torrents, 1);
  assert.equal(store.totals(T0 + 100).torrents, 0);
});

test('top swarms: the largest swarms of the last complete sweeper pass', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  for (let t = 0; t < 15; t++) {
    for (let i = 0; i <= t; i++) announce(store, { ...ann(i, { seeder: i === 0 }), infoHash: `t${t}`.padEnd(20, '-') }, T0);
  }
  assert.deepEqual(store.topSwarms(), [], 'nothing before a pass completes');
  store.sweep(T0, 5);
  store.sweep(T0, 5);
  store.sweep(T0, 5);
  assert.deepEqual(store.topSwarms(), [], 'the pass has not seen its end yet');
  store.sweep(T0, 5);
  const top = store.topSwarms();
  assert.equal(top.length, 10);
  assert.deepEqual(top.map((s) => s.peers), [15, 14, 13, 12, 11, 10, 9, 8, 7, 6]);
  assert.deepEqual(top[0], { infoHash: 't14'.padEnd(20, '-'), peers: 15, complete: 1, incomplete: 14, downloaded: 0 });
});

test('--max-torrents: a new torrent beyond the limit is refused; known torrents still work', () => {
  const store = new MemoryStore({ peerTtl: 100, maxTorrents: 2 });
  announce(store, { ...ann(1), infoHash: 'a'.repeat(20) }, T0);
  announce(store, { ...ann(1), infoHash: 'b'.repeat(20) }, T0);
  assert.equal(store.announce({ ...ann(1), infoHash: 'c'.repeat(20) }, T0), null);
  assert.equal(announce(store, { ...ann(2), infoHash: 'a'.repeat(20) }, T0).incomplete, 2);
  announce(store, { ...ann(1), infoHash: 'b'.repeat(20), event: 'stopped' }, T0);
  assert.ok(store.announce({ ...ann(1), infoHash: 'c'.repeat(20) }, T0) !== null, 'room again once a torrent is gone');
});

test('a swarm re-created while a sweep pass is under way is a new swarm: kept, with its own records', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  const other = 'other'.padEnd(20, '-');
  for (let i = 0; i < 300; i++) announce(store, { ...ann(i), addr: v4(i) }, T0);
  announce(store, { ...ann(1), infoHash: other }, T0 + 150);
  const later = T0 + 200;
  // A slice that stops after the first swarm, mid-pass.
  assert.equal(store.sweep(later, 1).passDone, false);
  // The swarm empties and goes (a scrape), then an announce creates it anew.
  assert.deepEqual(store.scrape([HASH], later), [{ infoHash: HASH, complete: 0, incomplete: 0, downloaded: 0 }]);
  announce(store, ann(1000), later);
  announce(store, ann(1001, { seeder: true }), later);
  for (let i = 0; i < 5; i++) store.sweep(later, 1);
  assert.deepEqual(store.scrape([HASH], later), [{ infoHash: HASH, complete: 1, incomplete: 1, downloaded: 0 }]);
  assert.deepEqual(store.totals(later), { torrents: 2, peers: 3, seeders: 1, leechers: 2 });
  const out = announce(store, ann(1002), later);
  assert.deepEqual(out.peers.map(entryPeerId).sort(), [peerId(1000), peerId(1001)].sort());
});

test('a snapshot taken while torrents come and go still holds every torrent that stayed', () => {
  const store = new MemoryStore({ peerTtl: 100 });
  const hash = (i: number): string => `torrent-${i}`.padEnd(20, '.');
  for (let i = 0; i < 3000; i++) announce(store, { ...ann(1), infoHash: hash(i) }, T0);
  const exported = new Set<string>();
  let n = 0;
  let added = 3000;
  for (const t of store.exportTorrents()) {
    exported.add(t.infoHash);
    t.forEachPeer(() => undefined);
    // Between torrents (a save's pause): some leave (entries shift), new ones arrive (tables grow).
    if (++n % 10 === 0 && added < 40_000) {
      for (let k = 0; k < 5; k++) store.announce({ ...ann(1), infoHash: hash(1500 + ((n * 5 + k) % 1500)), event: 'stopped' }, T0);
      for (let k = 0; k < 60; k++) announce(store, { ...ann(1), infoHash: hash(added++) }, T0);
    }
  }
  // Torrents 1..1499 were never stopped: each must be in the snapshot.
  const missing = Array.from({ length: 1499 }, (_, i) => hash(i + 1)).filter((h) => !exported.has(h));
  assert.deepEqual(missing, []);
});
