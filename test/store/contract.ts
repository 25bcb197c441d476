/**
 * The swarm store contract: every swarm rule a SwarmStore must keep, checked
 * through the SwarmStore interface alone. Every store implementation runs this
 * suite unchanged (see test/store/*.test.ts), so a new store (shared,
 * asynchronous) behaves exactly as the in-memory one does.
 *
 * Every store call is awaited (a store may answer with a value or a Promise),
 * time is given as fixed integer seconds (nothing sleeps), and sweep() is used
 * only for its side effects, never for what it returns.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compactAddr, entryAddr, entryPeerId, peerSetEntries, type PeerEntry } from '../../src/protocol/peers.js';
import type { ScrapeFile, SwarmCounts } from '../../src/protocol/types.js';
import type { StoreAnnounce, SwarmStore } from '../../src/store/store.js';

export interface StoreContractOptions {
  peerTtl: number;
  maxTorrents?: number;
}

const TTL = 100;
const T0 = 1_000_000;
/** A sweep budget that makes one call a whole pass. */
const FULL = Number.MAX_SAFE_INTEGER;

const hash = (name: string): string => name.padEnd(20, '-');
const A = hash('a');
const B = hash('b');
const C = hash('c');
const D = hash('d');
const E = hash('e');

const pid = (i: number): string => `peer-${i}`.padEnd(20, '.');
const v4 = (i: number, port = 6881): string => compactAddr(String.fromCharCode(10, 0, (i >> 8) & 0xff, i & 0xff), port);
const v6 = (i: number, port = 6881): string =>
  compactAddr('\x20\x01\x0d\xb8' + '\0'.repeat(10) + String.fromCharCode((i >> 8) & 0xff, i & 0xff), port);

/** Peer i's announce to torrent A: a leecher over IPv4, event started, numwant 50. */
function req(i: number, o: Partial<StoreAnnounce> = {}): StoreAnnounce {
  return { infoHash: A, peerId: pid(i), addr: v4(i), seeder: false, event: 'started', numwant: 50, peerIds: true, ...o };
}

/** An announce's counts, and its peers as entries (copied: a store may reuse its reply buffers). */
interface Outcome extends SwarmCounts {
  peers: PeerEntry[];
}

/** An announce that must not be refused. */
async function announce(store: SwarmStore, input: StoreAnnounce, now: number): Promise<Outcome> {
  const out = await store.announce(input, now);
  assert.ok(out !== null, `announce of ${input.peerId.trim()} to ${input.infoHash} refused`);
  return { complete: out.complete, incomplete: out.incomplete, downloaded: out.downloaded, peers: peerSetEntries(out.peers) };
}

/** Sorted peer ids of a peer list. */
const ids = (peers: readonly PeerEntry[]): string[] => peers.map((p) => entryPeerId(p)).sort();
/** Sorted peer ids of peers i…, for comparison with ids(). */
const pids = (...is: number[]): string[] => is.map(pid).sort();
/** "peer id@address in hex", sorted: a peer list with its addresses. */
const entries = (peers: readonly PeerEntry[]): string[] => peers.map((p) => key(entryPeerId(p), entryAddr(p))).sort();
const key = (peerId: string, addr: string): string => `${peerId}@${Buffer.from(addr, 'latin1').toString('hex')}`;
/** [complete, incomplete, downloaded]. */
const counts = (c: SwarmCounts): number[] => [c.complete, c.incomplete, c.downloaded];
const file = (infoHash: string, complete: number, incomplete: number, downloaded: number): ScrapeFile => ({ infoHash, complete, incomplete, downloaded });
const byHash = (files: readonly ScrapeFile[]): ScrapeFile[] => [...files].sort((x, y) => (x.infoHash < y.infoHash ? -1 : 1));

export function runStoreContract(
  name: string,
  factory: (opts: StoreContractOptions) => SwarmStore | Promise<SwarmStore>,
  cleanup?: (store: SwarmStore) => void | Promise<void>,
): void {
  /** A test on a fresh store (peerTtl 100 unless `opts` say otherwise), cleaned up whatever happens. */
  function it(title: string, body: (store: SwarmStore) => Promise<void>, opts: Partial<StoreContractOptions> = {}): void {
    test(title, async () => {
      const store = await factory({ peerTtl: TTL, ...opts });
      try {
        await body(store);
      } finally {
        await cleanup?.(store);
      }
    });
  }

  describe(`${name} store contract`, () => {
    // --- announce replies ---------------------------------------------------
    it('announce returns complete, incomplete, downloaded and the peer entries', async (s) => {
      const first = await announce(s, req(1, { seeder: true, event: 'completed' }), T0);
      assert.deepEqual(counts(first), [1, 0, 1]);
      assert.deepEqual(first.peers, []);
      await announce(s, req(2), T0);
      const out = await announce(s, req(3, { addr: v4(3, 51413) }), T0);
      assert.deepEqual(counts(out), [1, 2, 1]);
      assert.deepEqual(entries(out.peers), [key(pid(1), v4(1)), key(pid(2), v4(2))].sort());
      const again = await announce(s, req(1, { seeder: true, event: 'none' }), T0 + 1);
      assert.deepEqual(entries(again.peers), [key(pid(2), v4(2)), key(pid(3), v4(3, 51413))].sort());
    });

    it('a peer never receives itself', async (s) => {
      for (let i = 0; i < 5; i++) await announce(s, req(i), T0);
      for (let i = 0; i < 5; i++) {
        const out = await announce(s, req(i, { event: 'none' }), T0 + 1);
        assert.deepEqual(ids(out.peers), pids(...[0, 1, 2, 3, 4].filter((j) => j !== i)));
      }
    });

    it('a seeder receives only leechers (none in a swarm of seeders)', async (s) => {
      for (let i = 0; i < 5; i++) await announce(s, req(i, { seeder: i < 2 }), T0);
      assert.deepEqual(ids((await announce(s, req(0, { seeder: true }), T0)).peers), pids(2, 3, 4));
      await announce(s, req(1, { infoHash: B, seeder: true }), T0);
      const out = await announce(s, req(2, { infoHash: B, seeder: true }), T0);
      assert.deepEqual([...counts(out), out.peers.length], [2, 0, 0, 0]);
    });

    it('a leecher receives seeders and leechers', async (s) => {
      for (let i = 0; i < 5; i++) await announce(s, req(i, { seeder: i < 2 }), T0);
      assert.deepEqual(ids((await announce(s, req(4), T0)).peers), pids(0, 1, 2, 3));
    });

    // --- numwant and rotation -----------------------------------------------
    it('numwant caps the list; numwant 0 gives no peers but full counts', async (s) => {
      for (let i = 0; i < 10; i++) await announce(s, req(i, { seeder: i < 3 }), T0);
      const out = await announce(s, req(9, { numwant: 3 }), T0);
      assert.equal(out.peers.length, 3);
      assert.equal(new Set(ids(out.peers)).size, 3, 'no duplicates');
      assert.ok(!ids(out.peers).includes(pid(9)));
      const none = await announce(s, req(9, { numwant: 0 }), T0);
      assert.deepEqual([...counts(none), none.peers.length], [3, 7, 0, 0]);
    });

    /** Announces of `self` until it has seen every peer it may get; fails after a few rounds. */
    async function rotate(s: SwarmStore, self: StoreAnnounce, numwant: number, expected: string[]): Promise<void> {
      const rounds = Math.ceil(expected.length / numwant) + 2;
      const seen = new Set<string>();
      for (let k = 0; k < rounds; k++) {
        const out = await announce(s, { ...self, event: 'none', numwant }, T0 + 1 + k);
        assert.equal(out.peers.length, numwant);
        assert.equal(new Set(ids(out.peers)).size, numwant, 'no duplicates in one list');
        for (const id of ids(out.peers)) seen.add(id);
      }
      assert.deepEqual([...seen].sort(), expected, `every peer handed out within ${rounds} announces`);
    }

    it('successive announces rotate through a swarm larger than numwant', async (s) => {
      for (let i = 0; i < 12; i++) await announce(s, req(i), T0);
      await rotate(s, req(0), 4, pids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
    });

    it('rotation covers seeders and leechers for a leecher, leechers for a seeder', async (s) => {
      for (let i = 0; i < 12; i++) await announce(s, req(i, { seeder: i < 4 }), T0);
      await rotate(s, req(11), 4, pids(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
      await rotate(s, req(0, { seeder: true }), 3, pids(4, 5, 6, 7, 8, 9, 10, 11));
    });

    // --- address families ---------------------------------------------------
    it('an IPv4 requester gets only IPv4 peers', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(2, { seeder: true }), T0);
      await announce(s, req(3, { addr: v6(3) }), T0);
      await announce(s, req(4, { addr: v6(4), seeder: true }), T0);
      const out = await announce(s, req(5), T0);
      assert.deepEqual(entries(out.peers), [key(pid(1), v4(1)), key(pid(2), v4(2))].sort());
      assert.deepEqual(counts(out), [2, 3, 0], 'IPv6 peers are still counted');
    });

    it('an IPv6 requester gets IPv4 and IPv6 peers, each with its own address', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(2, { seeder: true }), T0);
      await announce(s, req(3, { addr: v6(3) }), T0);
      const out = await announce(s, req(4, { addr: v6(4) }), T0);
      assert.deepEqual(entries(out.peers), [key(pid(1), v4(1)), key(pid(2), v4(2)), key(pid(3), v6(3))].sort());
    });

    it('the same peer_id over IPv4 and over IPv6 is two peers, counted in each family, never handed its own other-family record', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(3), T0);
      const six = await announce(s, req(1, { addr: v6(1) }), T0);
      assert.deepEqual(counts(six), [0, 3, 0], 'a dual-stack client counts once per family it announced from');
      assert.deepEqual(entries(six.peers), [key(pid(3), v4(3))], 'the IPv6 announce gets the other IPv4 peer, not its own IPv4 record');
      const again = await announce(s, req(1, { addr: v6(1), event: 'none', numwant: 1 }), T0);
      assert.deepEqual(entries(again.peers), [key(pid(3), v4(3))], 'numwant 1: still the other peer, never itself');
      assert.deepEqual(entries((await announce(s, req(1, { event: 'none' }), T0)).peers), [key(pid(3), v4(3))], 'the IPv4 record sees no IPv6 peer');
      assert.deepEqual(await s.totals(T0), { torrents: 1, peers: 3, seeders: 0, leechers: 3 });
      assert.deepEqual(counts(await announce(s, req(1, { event: 'stopped' }), T0)), [0, 2, 0], 'stopped over IPv4 leaves the IPv6 record');
      assert.deepEqual(entries((await announce(s, req(2, { addr: v6(2) }), T0)).peers).sort(), [key(pid(1), v6(1)), key(pid(3), v4(3))].sort());
    });

    // --- re-announces -------------------------------------------------------
    it('a re-announce from a new address and port replaces the old one, without a duplicate', async (s) => {
      await announce(s, req(1), T0);
      const moved = await announce(s, req(1, { addr: v4(50, 7000), event: 'none' }), T0 + 10);
      assert.deepEqual(counts(moved), [0, 1, 0]);
      const out = await announce(s, req(2), T0 + 10);
      assert.deepEqual(counts(out), [0, 2, 0]);
      assert.deepEqual(entries(out.peers), [key(pid(1), v4(50, 7000))]);
      assert.deepEqual(await s.totals(T0 + 10), { torrents: 1, peers: 2, seeders: 0, leechers: 2 });
    });

    it('a re-announce changes the role: leecher to seeder moves the counts', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(2), T0);
      const seeding = await announce(s, req(1, { seeder: true, event: 'none' }), T0 + 1);
      assert.deepEqual(counts(seeding), [1, 1, 0], 'no completed event, no download counted');
      assert.deepEqual(await s.totals(T0 + 1), { torrents: 1, peers: 2, seeders: 1, leechers: 1 });
      assert.deepEqual(ids((await announce(s, req(3, { seeder: true }), T0 + 1)).peers), pids(2), 'seeder 1 is not given to seeder 3');
      const back = await announce(s, req(1, { event: 'none' }), T0 + 2);
      assert.deepEqual(counts(back), [1, 2, 0]);
      assert.deepEqual(await s.scrape([A], T0 + 2), [file(A, 1, 2, 0)]);
    });

    // --- completed ----------------------------------------------------------
    it('completed counts a download once; a repeat from a seeder does not; an unknown peer counts', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(2), T0);
      assert.deepEqual(counts(await announce(s, req(1, { seeder: true, event: 'completed' }), T0 + 1)), [1, 1, 1]);
      assert.deepEqual(counts(await announce(s, req(1, { seeder: true, event: 'completed' }), T0 + 2)), [1, 1, 1], 'repeat');
      assert.deepEqual(counts(await announce(s, req(9, { seeder: true, event: 'completed' }), T0 + 3)), [2, 1, 2], 'unknown peer');
      assert.deepEqual(counts(await announce(s, req(3, { infoHash: B, seeder: true, event: 'completed' }), T0 + 3)), [1, 0, 1], 'unknown torrent');
      assert.deepEqual(await s.scrape([A, B], T0 + 3), [file(A, 2, 1, 2), file(B, 1, 0, 1)]);
    });

    // --- stopped ------------------------------------------------------------
    it('stopped removes the peer and returns no peers', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(2), T0);
      await announce(s, req(3, { seeder: true }), T0);
      const out = await announce(s, req(1, { event: 'stopped' }), T0 + 1);
      assert.deepEqual([...counts(out), out.peers.length], [1, 1, 0, 0]);
      assert.deepEqual(ids((await announce(s, req(2, { event: 'none' }), T0 + 2)).peers), pids(3));
      assert.deepEqual(await s.totals(T0 + 2), { torrents: 1, peers: 2, seeders: 1, leechers: 1 });
    });

    it('stopped from a peer the torrent does not know changes nothing', async (s) => {
      await announce(s, req(1), T0);
      const out = await announce(s, req(7, { event: 'stopped' }), T0);
      assert.deepEqual([...counts(out), out.peers.length], [0, 1, 0, 0]);
      assert.deepEqual(await s.totals(T0), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
    });

    it('stopped for an unknown torrent creates nothing', async (s) => {
      await announce(s, req(1), T0);
      const out = await announce(s, req(2, { infoHash: B, event: 'stopped' }), T0);
      assert.deepEqual([...counts(out), out.peers.length], [0, 0, 0, 0]);
      assert.deepEqual(await s.scrape([B], T0), [file(B, 0, 0, 0)]);
      assert.deepEqual(await s.scrapeAll(T0), [file(A, 0, 1, 0)]);
      assert.deepEqual(await s.totals(T0), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
    });

    it('a torrent whose last peer stopped disappears', async (s) => {
      await announce(s, req(1, { seeder: true, event: 'completed' }), T0);
      await announce(s, req(2), T0);
      await announce(s, req(3, { infoHash: B }), T0);
      await announce(s, req(1, { event: 'stopped' }), T0 + 1);
      await announce(s, req(2, { event: 'stopped' }), T0 + 1);
      assert.deepEqual(await s.totals(T0 + 1), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
      assert.deepEqual(await s.scrapeAll(T0 + 1), [file(B, 0, 1, 0)]);
      assert.deepEqual(await s.scrape([A], T0 + 1), [file(A, 0, 0, 0)]);
    });

    // --- TTL ----------------------------------------------------------------
    it('a peer silent for peerTtl seconds is no longer handed out or counted by announce', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(2, { seeder: true }), T0 + 50);
      const before = await announce(s, req(3), T0 + TTL - 1);
      assert.deepEqual([...counts(before), ...ids(before.peers)], [1, 2, 0, ...pids(1, 2)]);
      const after = await announce(s, req(4), T0 + TTL);
      assert.deepEqual([...counts(after), ...ids(after.peers)], [1, 2, 0, ...pids(2, 3)]);
    });

    it('an expired peer is left out of scrape, scrapeAll and totals before any sweep', async (s) => {
      await announce(s, req(1, { seeder: true }), T0);
      await announce(s, req(2), T0 + 50);
      await announce(s, req(3, { infoHash: B }), T0);
      assert.deepEqual(await s.totals(T0 + TTL - 1), { torrents: 2, peers: 3, seeders: 1, leechers: 2 });
      assert.deepEqual(await s.totals(T0 + TTL), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
      assert.deepEqual(await s.scrape([A, B], T0 + TTL), [file(A, 0, 1, 0), file(B, 0, 0, 0)]);
      assert.deepEqual(await s.scrapeAll(T0 + TTL), [file(A, 0, 1, 0)]);
      assert.deepEqual(await s.totals(T0 + 50 + TTL), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
    });

    it('a sweep removes expired peers and torrents', async (s) => {
      for (let i = 1; i <= 3; i++) await announce(s, req(i, { seeder: i === 1 }), T0);
      await announce(s, req(4), T0 + 50);
      for (let i = 1; i <= 5; i++) await announce(s, req(i, { infoHash: B }), T0);
      await s.sweep(T0 + TTL, FULL);
      assert.deepEqual(await s.topSwarms(), [{ infoHash: A, peers: 1, complete: 0, incomplete: 1, downloaded: 0 }]);
      assert.deepEqual(await s.totals(T0 + TTL), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
      assert.deepEqual(await s.scrapeAll(T0 + TTL), [file(A, 0, 1, 0)]);
      await s.sweep(T0 + 50 + TTL, FULL);
      assert.deepEqual(await s.topSwarms(), []);
    });

    it('a re-announce before the TTL keeps a peer alive', async (s) => {
      await announce(s, req(1), T0);
      await announce(s, req(2), T0);
      await announce(s, req(1, { event: 'none' }), T0 + 60);
      await s.sweep(T0 + TTL, FULL);
      const out = await announce(s, req(3), T0 + 150);
      assert.deepEqual([...counts(out), ...ids(out.peers)], [0, 2, 0, pid(1)]);
      assert.deepEqual(await s.totals(T0 + 60 + TTL - 1), { torrents: 1, peers: 2, seeders: 0, leechers: 2 });
      assert.deepEqual(await s.totals(T0 + 60 + TTL), { torrents: 1, peers: 1, seeders: 0, leechers: 1 });
    });

    // --- torrent limit ------------------------------------------------------
    it('maxTorrents: a new torrent beyond the limit is refused; known torrents still work', async (s) => {
      await announce(s, req(1, { infoHash: A }), T0);
      await announce(s, req(1, { infoHash: B }), T0);
      assert.equal(await s.announce(req(1, { infoHash: C }), T0), null);
      assert.deepEqual(counts(await announce(s, req(2, { infoHash: A }), T0 + 1)), [0, 2, 0]);
      assert.deepEqual(counts(await announce(s, req(1, { infoHash: B, seeder: true, event: 'completed' }), T0 + 1)), [1, 0, 1]);
      assert.deepEqual(await s.scrape([C], T0 + 1), [file(C, 0, 0, 0)]);
      assert.deepEqual(await s.totals(T0 + 1), { torrents: 2, peers: 3, seeders: 1, leechers: 2 });
    }, { maxTorrents: 2 });

    it('maxTorrents: once expired torrents are swept, new torrents are accepted again', async (s) => {
      await announce(s, req(1, { infoHash: A }), T0);
      await announce(s, req(1, { infoHash: B }), T0);
      assert.equal(await s.announce(req(1, { infoHash: C }), T0), null);
      await s.sweep(T0 + TTL, FULL);
      assert.deepEqual(counts(await announce(s, req(1, { infoHash: C }), T0 + TTL)), [0, 1, 0]);
      assert.deepEqual(counts(await announce(s, req(1, { infoHash: D }), T0 + TTL)), [0, 1, 0]);
      assert.equal(await s.announce(req(1, { infoHash: E }), T0 + TTL), null);
    }, { maxTorrents: 2 });

    it('maxTorrents: a stopped torrent frees its place; stopped for an unknown torrent takes none', async (s) => {
      await announce(s, req(1, { infoHash: B, event: 'stopped' }), T0);
      await announce(s, req(1, { infoHash: A }), T0);
      assert.equal(await s.announce(req(1, { infoHash: C }), T0), null);
      await announce(s, req(1, { infoHash: A, event: 'stopped' }), T0);
      assert.deepEqual(counts(await announce(s, req(1, { infoHash: C }), T0)), [0, 1, 0]);
    }, { maxTorrents: 1 });

    // --- scrape -------------------------------------------------------------
    it('scrape of unknown hashes gives zeros, in the order asked', async (s) => {
      assert.deepEqual(await s.scrape([C, A, B], T0), [file(C, 0, 0, 0), file(A, 0, 0, 0), file(B, 0, 0, 0)]);
      assert.deepEqual(await s.scrapeAll(T0), []);
    });

    it('scrape answers in request order, known and unknown mixed', async (s) => {
      await announce(s, req(1, { infoHash: A }), T0);
      await announce(s, req(1, { infoHash: B, seeder: true, event: 'completed' }), T0);
      await announce(s, req(2, { infoHash: B }), T0);
      assert.deepEqual(await s.scrape([B, D, A], T0), [file(B, 1, 1, 1), file(D, 0, 0, 0), file(A, 0, 1, 0)]);
      assert.deepEqual(await s.scrape([A, B], T0), [file(A, 0, 1, 0), file(B, 1, 1, 1)]);
    });

    it('scrapeAll lists every live torrent and no empty one', async (s) => {
      await announce(s, req(1, { infoHash: A }), T0 + 50);
      await announce(s, req(2, { infoHash: A, seeder: true, event: 'completed' }), T0 + 50);
      await announce(s, req(1, { infoHash: B, addr: v6(1) }), T0 + 50);
      await announce(s, req(1, { infoHash: C }), T0 + 50);
      await announce(s, req(1, { infoHash: C, event: 'stopped' }), T0 + 50); // emptied
      await announce(s, req(1, { infoHash: D }), T0); // expired by T0 + 100
      assert.deepEqual(byHash(await s.scrapeAll(T0 + TTL)), [file(A, 1, 1, 1), file(B, 0, 1, 0)]);
    });

    // --- totals -------------------------------------------------------------
    it('totals count live torrents, peers, seeders and leechers exactly', async (s) => {
      assert.deepEqual(await s.totals(T0), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
      await announce(s, req(1, { seeder: true }), T0);
      await announce(s, req(2, { seeder: true, addr: v6(2) }), T0);
      await announce(s, req(3), T0);
      await announce(s, req(4, { infoHash: B }), T0 + 30);
      await announce(s, req(5, { infoHash: B, seeder: true }), T0 + 30);
      await announce(s, req(6, { infoHash: C }), T0 + 30);
      assert.deepEqual(await s.totals(T0 + 30), { torrents: 3, peers: 6, seeders: 3, leechers: 3 });
      await announce(s, req(3, { seeder: true, event: 'completed' }), T0 + 40);
      assert.deepEqual(await s.totals(T0 + 40), { torrents: 3, peers: 6, seeders: 4, leechers: 2 });
      assert.deepEqual(await s.totals(T0 + TTL), { torrents: 3, peers: 4, seeders: 2, leechers: 2 });
      assert.deepEqual(await s.totals(T0 + 30 + TTL), { torrents: 1, peers: 1, seeders: 1, leechers: 0 });
      assert.deepEqual(await s.totals(T0 + 40 + TTL), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
    });

    // --- top swarms ---------------------------------------------------------
    it('topSwarms after a full sweep: the 10 largest live swarms, largest first, with their counts', async (s) => {
      // Torrent t<n> has n peers, the first n/3 of them seeders that announced completed.
      for (let n = 1; n <= 12; n++) {
        for (let i = 0; i < n; i++) {
          const seeder = i < Math.floor(n / 3);
          await announce(s, req(i, { infoHash: hash(`t${n}`), seeder, event: seeder ? 'completed' : 'started' }), T0 + 50);
        }
      }
      for (let i = 0; i < 20; i++) await announce(s, req(i, { infoHash: hash('expired') }), T0); // gone by T0 + 100
      await s.sweep(T0 + TTL, FULL);
      const expected = [12, 11, 10, 9, 8, 7, 6, 5, 4, 3].map((n) => {
        const seeders = Math.floor(n / 3);
        return { infoHash: hash(`t${n}`), peers: n, complete: seeders, incomplete: n - seeders, downloaded: seeders };
      });
      assert.deepEqual(await s.topSwarms(), expected);
    });

    // --- dropping torrents (an access list reloaded) ----------------------
    it('dropTorrents removes the torrents picked, their peers from every count, at once', async (s) => {
      for (let i = 0; i < 3; i++) await announce(s, req(i, { infoHash: A, seeder: i === 0, event: i === 0 ? 'completed' : 'started' }), T0);
      for (let i = 0; i < 4; i++) await announce(s, req(i, { infoHash: B, seeder: i < 2 }), T0);
      await announce(s, req(9, { infoHash: C, addr: v6(9) }), T0);
      await s.sweep(T0, FULL);
      assert.equal(await s.dropTorrents((h) => h === B || h === C, T0 + 1), 2);
      assert.deepEqual(await s.totals(T0 + 1), { torrents: 1, peers: 3, seeders: 1, leechers: 2 });
      assert.deepEqual(await s.scrape([A, B, C], T0 + 1), [file(A, 1, 2, 1), file(B, 0, 0, 0), file(C, 0, 0, 0)]);
      assert.deepEqual(await s.scrapeAll(T0 + 1), [file(A, 1, 2, 1)]);
      assert.deepEqual((await s.topSwarms()).map((t) => t.infoHash), [A], 'a dropped swarm leaves the top list');
      assert.equal(await s.dropTorrents(() => false, T0 + 1), 0);
      // B starts afresh if it comes back: nothing of the old swarm remains.
      assert.deepEqual(counts(await announce(s, req(7, { infoHash: B }), T0 + 2)), [0, 1, 0]);
    });

    it('topSwarms lists every swarm when there are fewer than 10', async (s) => {
      for (let i = 0; i < 3; i++) await announce(s, req(i, { infoHash: B, seeder: i === 0 }), T0);
      await announce(s, req(0, { infoHash: A }), T0);
      await s.sweep(T0, FULL);
      assert.deepEqual(await s.topSwarms(), [
        { infoHash: B, peers: 3, complete: 1, incomplete: 2, downloaded: 0 },
        { infoHash: A, peers: 1, complete: 0, incomplete: 1, downloaded: 0 },
      ]);
    });
  });
}
