/**
 * The store contract against the Redis store, on a real redis-server started
 * for this file; and random operations, batched as a loaded tracker sends
 * them, answered as the memory store answers them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { compactAddr, entryAddr, entryPeerId, peerSetEntries } from '../../src/protocol/peers.js';
import type { AnnounceEvent } from '../../src/protocol/types.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { SwarmStore } from '../../src/store/store.js';
import { prng } from '../helpers.js';
import { redisSkip, startRedis, type TestRedis } from '../redis-server.js';
import { runStoreContract } from '../store/contract.js';

describe('Redis store', { skip: redisSkip }, () => {
  let redis: TestRedis;
  let n = 0;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  runStoreContract(
    'redis',
    // Each test its own key prefix: a fresh, empty store on the same server.
    (o) => RedisStore.open({ url: redis.url, peerTtl: o.peerTtl, maxTorrents: o.maxTorrents ?? Infinity, logger: pino({ level: 'silent' }), prefix: `c${n++}` }),
    async (s: SwarmStore) => {
      const store = s as RedisStore;
      await store.clear();
      await store.close();
    },
  );

  test('random announces, batched, stopped, moved and expiring: the counts of the memory store, only live peers handed out', async () => {
    const TTL = 50;
    const redisStore = await RedisStore.open({ url: redis.url, peerTtl: TTL, maxTorrents: Infinity, logger: pino({ level: 'silent' }), prefix: 'diff' });
    const memory = new MemoryStore({ peerTtl: TTL });
    const random = prng(0xd1ff);
    const pick = (n: number): number => Math.floor(random() * n);
    const hashes = ['x', 'y', 'z'].map((h) => h.repeat(20));
    /** What the test knows of each peer: identity (family + peer id) → address, role, last announce. */
    const model = new Map<string, { addr: string; seeder: boolean; last: number }>();
    const EVENTS: AnnounceEvent[] = ['started', 'none', 'none', 'none', 'completed', 'stopped'];
    let now = 1_000_000;
    try {
      for (let round = 0; round < 150; round++) {
        if (round % 10 === 9) now += pick(30);
        // A batch: several announces issued together, as one turn of a busy tracker's loop sends them.
        const batch = Array.from({ length: 1 + pick(24) }, () => {
          const fam = pick(4) === 0 ? 6 : 4;
          const i = pick(30);
          const peerId = `p${i}`.padEnd(20, '.');
          const ip = fam === 4 ? String.fromCharCode(10, 0, 0, i) : '\x20\x01' + '\0'.repeat(13) + String.fromCharCode(i);
          return { infoHash: hashes[pick(3)]!, peerId, addr: compactAddr(ip, 6000 + pick(3)), seeder: pick(3) === 0, event: EVENTS[pick(EVENTS.length)]!, numwant: pick(12), peerIds: true };
        });
        const fromRedis = await Promise.all(batch.map((a) => redisStore.announce(a, now)));
        for (let j = 0; j < batch.length; j++) {
          const a = batch[j]!;
          const expected = memory.announce(a, now)!;
          const got = fromRedis[j]!;
          assert.deepEqual([got.complete, got.incomplete, got.downloaded], [expected.complete, expected.incomplete, expected.downloaded], `round ${round} announce ${j}`);
          const fam = a.addr.length === 18 ? 6 : 4;
          const key = (f: number, id: string, h: string): string => `${h}|${f}|${id}`;
          if (a.event === 'stopped') model.delete(key(fam, a.peerId, a.infoHash));
          else model.set(key(fam, a.peerId, a.infoHash), { addr: a.addr, seeder: a.seeder, last: now });
          const peers = peerSetEntries(got.peers);
          assert.equal(peers.length, expected.peers.count, `as many peers as the memory store hands out (round ${round} announce ${j})`);
          const seen = new Set<string>();
          for (const p of peers) {
            const f = entryAddr(p).length === 18 ? 6 : 4;
            const m = model.get(key(f, entryPeerId(p), a.infoHash));
            assert.ok(m !== undefined && m.last + TTL > now, 'a live peer of this swarm');
            assert.equal(m.addr, entryAddr(p), 'at its latest address');
            assert.notEqual(entryPeerId(p), a.peerId, 'never the requester, in either family');
            assert.ok(!(a.seeder && m.seeder), 'a seeder is handed leechers only');
            assert.ok(fam === 6 || f === 4, 'an IPv4 requester gets IPv4 peers only');
            assert.ok(!seen.has(p.id), 'no peer twice');
            seen.add(p.id);
          }
        }
      }
      assert.deepEqual(await redisStore.scrape(hashes, now), memory.scrape(hashes, now));
      assert.deepEqual(await redisStore.totals(now), memory.totals(now));
    } finally {
      await redisStore.clear();
      await redisStore.close();
    }
  });
});
