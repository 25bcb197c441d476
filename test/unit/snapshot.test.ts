/** Workers' figures merged for the stats page: counters add up, distinct addresses count once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/runtime/clock.js';
import { StatsCollector } from '../../src/stats/collector.js';
import { localSource, mergeSnapshots, type ActivitySnapshot } from '../../src/stats/snapshot.js';

const ip = (i: number): string => String.fromCharCode(10, 0, i >> 8, i & 0xff);

test('merged snapshots: sums of counters, the union of distinct addresses, the worst loop delay', async () => {
  const clock = new ManualClock(1_800_000_000);
  const seed = 42;
  const a = new StatsCollector(clock, seed);
  const b = new StatsCollector(clock, seed);
  for (let i = 0; i < 300; i++) a.announced('udp', ip(i));
  for (let i = 200; i < 500; i++) b.announced('http', ip(i));
  b.scraped('udp', ip(1));
  a.refused('udp', 'bad_connection_id');
  b.refused('udp', 'bad_connection_id');
  b.connectionFailed('tls_handshake');
  const snap = async (c: StatsCollector, p99: number): Promise<ActivitySnapshot> => ({
    ...(await localSource(c, null).snapshot()),
    loop: { recentP99Ms: p99, recentMaxMs: p99 * 2, maxSinceStartMs: p99 * 3 },
  });
  const merged = mergeSnapshots([await snap(a, 5), await snap(b, 9)]);
  assert.ok(merged !== null);
  const all = merged.activity.periods.all_time;
  assert.equal(all.announces, 600);
  assert.equal(all.scrapes, 1);
  assert.deepEqual(all.protocols.udp, { announces: 300, scrapes: 1 });
  assert.deepEqual(all.protocols.http, { announces: 300, scrapes: 0 });
  // 500 distinct addresses, 100 of them seen by both: under EXACT_LIMIT, so exact.
  assert.equal(all.unique_ips, 500);
  assert.equal(merged.errors.bad_connection_id, 2);
  assert.equal(merged.connections.tls_handshake_failures, 1);
  assert.deepEqual(merged.loop, { recentP99Ms: 9, recentMaxMs: 18, maxSinceStartMs: 27 });
  const today = merged.activity.last_hour.announces_per_second;
  assert.equal(today.udp.length, 60);
  assert.ok(today.udp[59]! > 0 && today.http[59]! > 0, 'the current minute carries both workers');
  assert.equal(mergeSnapshots([]), null);
});
