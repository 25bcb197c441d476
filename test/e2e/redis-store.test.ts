/** The store contract against the Redis store, on a real redis-server started for this file. */
import { after, before, describe } from 'node:test';
import { pino } from 'pino';
import { RedisStore } from '../../src/store/redis-store.js';
import type { SwarmStore } from '../../src/store/store.js';
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
});
