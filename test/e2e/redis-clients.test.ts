/**
 * Real clients across two tracker processes on one Redis: the seeder
 * announces to one, the leecher to the other (and over the other transport);
 * the leecher finds the seeder through the shared swarm and downloads the
 * file byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import { startInstance, type Instance } from '../daemon-process.js';
import { redisSkip, startRedis, type TestRedis } from '../redis-server.js';
import { aria2, transmission } from './real-clients.js';
import { describeTraffic } from './tracker-traffic.js';
import { clientsSkip, transfer, TRANSFER_TIMEOUT_MS, type TransferCase } from './transfer.js';

interface Case extends TransferCase {
  seederTransport: 'http' | 'udp';
  leecherTransport: 'http' | 'udp';
}

const CASES: Case[] = [
  { name: 'aria2 seeds through A over HTTP, Transmission downloads through B over UDP', family: 4, seeder: aria2, leecher: transmission, seederTransport: 'http', leecherTransport: 'udp' },
  { name: 'Transmission seeds through A over UDP, aria2 downloads through B over HTTP', family: 4, seeder: transmission, leecher: aria2, seederTransport: 'udp', leecherTransport: 'http' },
];

describe('real clients across two trackers on one Redis', { skip: redisSkip || clientsSkip, concurrency: 1 }, () => {
  let redis: TestRedis;
  let a: Instance;
  let b: Instance;
  before(async () => {
    redis = await startRedis();
    // Short intervals so that clients re-announce (and learn of each other) quickly;
    // --verbose logs every request, for the message of a transfer that fails.
    const quick = ['--interval', '10', '--min-interval', '2', '--verbose'];
    [a, b] = await Promise.all([startInstance(redis.url, quick), startInstance(redis.url, quick)]);
  });
  after(async () => {
    await Promise.all([a?.daemon.stop(), b?.daemon.stop()]);
    await redis?.stop();
  });

  for (const c of CASES) {
    test(c.name, { timeout: TRANSFER_TIMEOUT_MS }, async () => {
      await transfer(c, {
        seederUrl: `${c.seederTransport}://127.0.0.1:${a.port}/announce`,
        leecherUrl: `${c.leecherTransport}://127.0.0.1:${b.port}/announce`,
        scrapePort: b.port,
        traffic: (since) => describeTraffic([['A', a.daemon.lines()], ['B', b.daemon.lines()]], since),
      });
    });
  }
});
