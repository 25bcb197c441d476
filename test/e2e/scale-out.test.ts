/**
 * Two wildkat-tracker processes on one real redis-server act as one tracker:
 * a peer that announced to one is handed out by the other, scrapes agree,
 * `stopped` on one is seen on the other, and concurrent announces to both
 * leave exact counts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { liveTotals, startInstance, type Instance } from '../daemon-process.js';
import { id20, prng } from '../helpers.js';
import { redisSkip, startRedis, type TestRedis } from '../redis-server.js';
import { httpAnnounce, httpScrape, udpAnnounce, udpScrape, type Announce } from '../tracker-client.js';

describe('two tracker processes on one Redis', { skip: redisSkip }, () => {
  let redis: TestRedis;
  let a: Instance;
  let b: Instance;
  before(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([startInstance(redis.url), startInstance(redis.url)]);
  });
  after(async () => {
    await Promise.all([a?.daemon.stop(), b?.daemon.stop()]);
    await redis?.stop();
  });

  test('a peer announced to A is handed out by B; scrapes agree; stopped on one is seen on the other', async () => {
    const hash = id20('one-tracker');
    const p1: Announce = { infoHash: hash, peerId: id20('p1'), port: 7001 };
    const p2: Announce = { infoHash: hash, peerId: id20('p2'), port: 7002, left: 0 };
    const p3: Announce = { infoHash: hash, peerId: id20('p3'), port: 7003 };
    assert.deepEqual(await udpAnnounce(a.port, p1), { failure: null, complete: 0, incomplete: 1, ports: [] });
    assert.deepEqual(await httpAnnounce(b.port, p2), { failure: null, complete: 1, incomplete: 1, ports: [7001] }, 'B hands out the peer A took');
    assert.deepEqual(await udpAnnounce(b.port, p3), { failure: null, complete: 1, incomplete: 2, ports: [7001, 7002] });
    const expected = [{ complete: 1, incomplete: 2, downloaded: 0 }];
    assert.deepEqual(await udpScrape(a.port, [hash]), expected);
    assert.deepEqual(await httpScrape(b.port, [hash]), expected);
    assert.deepEqual(await httpScrape(a.port, [hash]), expected);

    // p1 stops through B; A no longer hands it out.
    assert.equal((await httpAnnounce(b.port, { ...p1, event: 'stopped' })).failure, null);
    assert.deepEqual(await udpAnnounce(a.port, { ...p3, event: 'none' }), { failure: null, complete: 1, incomplete: 1, ports: [7002] });
    assert.deepEqual(await udpScrape(b.port, [hash]), [{ complete: 1, incomplete: 1, downloaded: 0 }]);
    // p3 completes through A: the download counts once, seen from B.
    await udpAnnounce(a.port, { ...p3, event: 'completed', left: 0 });
    assert.deepEqual(await httpScrape(b.port, [hash]), [{ complete: 2, incomplete: 0, downloaded: 1 }]);
  });

  test('concurrent announces to both trackers leave exact counts (scrape and totals)', { timeout: 60_000 }, async () => {
    // What the test before left (its writes settle within 100 ms).
    await new Promise((r) => setTimeout(r, 300));
    const base = (await liveTotals(a.webPort)) as { torrents: number; seeders: number; leechers: number };
    const rand = prng(13);
    const torrents = [0, 1, 2, 3].map((i) => id20(`conc-${i}`));
    type Peer = { a: Announce; completed: boolean; stopped: boolean };
    const peers: Peer[] = Array.from({ length: 160 }, (_, i) => ({
      a: { infoHash: torrents[i % torrents.length]!, peerId: id20(`c${i}`), port: 10_000 + i },
      completed: false,
      stopped: false,
    }));
    // Each request goes to either tracker over either transport: all four paths at once.
    const send = (x: Announce): Promise<unknown> => {
      const port = rand() < 0.5 ? a.port : b.port;
      return rand() < 0.5 ? udpAnnounce(port, x) : httpAnnounce(port, x);
    };
    const ok = async (p: Promise<unknown>): Promise<void> => assert.equal(((await p) as { failure: string | null }).failure, null);
    await Promise.all(peers.map((p) => ok(send(p.a))));
    const completing = peers.filter(() => rand() < 0.4);
    for (const p of completing) p.completed = true;
    await Promise.all(completing.map((p) => ok(send({ ...p.a, event: 'completed', left: 0 }))));
    const stopping = peers.filter(() => rand() < 0.25);
    for (const p of stopping) p.stopped = true;
    await Promise.all(stopping.map((p) => ok(send({ ...p.a, event: 'stopped', left: p.completed ? 0 : 100 }))));

    const truth = torrents.map((h) => {
      const mine = peers.filter((p) => p.a.infoHash === h);
      return {
        complete: mine.filter((p) => p.completed && !p.stopped).length,
        incomplete: mine.filter((p) => !p.completed && !p.stopped).length,
        downloaded: mine.filter((p) => p.completed).length,
      };
    });
    assert.deepEqual(await udpScrape(a.port, torrents), truth);
    assert.deepEqual(await httpScrape(b.port, torrents.slice(0, 2)), truth.slice(0, 2));
    assert.deepEqual(await httpScrape(b.port, torrents.slice(2)), truth.slice(2));
    const seeders = truth.reduce((n, t) => n + t.complete, 0);
    const leechers = truth.reduce((n, t) => n + t.incomplete, 0);
    // Another process's tracker-wide changes are written within 100 ms: both pages agree soon.
    const expected = { torrents: base.torrents + 4, peers: base.seeders + base.leechers + seeders + leechers, seeders: base.seeders + seeders, leechers: base.leechers + leechers };
    const deadline = Date.now() + 3000;
    let seen: unknown[] = [];
    while (Date.now() < deadline) {
      seen = [await liveTotals(a.webPort), await liveTotals(b.webPort)];
      if (seen.every((s) => JSON.stringify(s) === JSON.stringify(expected))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(seen, [expected, expected], 'the stats pages of both show the exact totals');
  });
});
