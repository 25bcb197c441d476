import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatsCollector } from '../../src/stats/collector.js';
import { ManualClock } from '../../src/runtime/clock.js';

const DAY = 86_400;
// 2026-11-26T10:00:30Z
const START = Date.UTC(2026, 10, 26, 10, 0, 30) / 1000;
const V4 = (i: number): string => String.fromCharCode(10, 0, 0, i);
const V6 = '\x20\x01' + '\x00'.repeat(13) + '\x01';

test('counts announces and scrapes by protocol and family, unique IPs, bytes and gzip', () => {
  const clock = new ManualClock(START);
  const stats = new StatsCollector(clock);
  stats.announced('udp', V4(1));
  stats.announced('udp', V4(1));
  stats.announced('http', V4(2));
  stats.announced('https', V6);
  stats.scraped('http', V4(3));
  stats.replied('http', 100, 0, 0);
  stats.replied('http', 50, 30, 0);
  const a = stats.activity();
  const today = a.periods.today;
  assert.equal(today.announces, 4);
  assert.equal(today.scrapes, 1);
  assert.equal(today.unique_ips, 4);
  assert.deepEqual(today.protocols, { udp: { announces: 2, scrapes: 0 }, https: { announces: 1, scrapes: 0 }, http: { announces: 1, scrapes: 1 }, wss: { announces: 0, scrapes: 0 }, ws: { announces: 0, scrapes: 0 } });
  assert.deepEqual(today.families, { ipv4: { announces: 3, scrapes: 1 }, ipv6: { announces: 1, scrapes: 0 } });
  assert.deepEqual([today.bytes_sent, today.responses, today.gzip_bytes_saved, today.gzip_responses], [150, 2, 30, 1]);
  assert.deepEqual(a.periods.all_time, today);
  assert.equal(a.periods.yesterday.announces, 0);
  assert.equal(a.hourly.today_date, '2026-11-26');
  assert.equal(a.hourly.today[10], 4);
  assert.equal(a.daily.length, 30);
  assert.deepEqual(a.daily.at(-1), { date: '2026-11-26', announces: 4 });
});

test('days roll over: today becomes yesterday; all time keeps counting; 30 daily bars', () => {
  const clock = new ManualClock(START);
  const stats = new StatsCollector(clock);
  stats.announced('udp', V4(1));
  clock.advance(DAY);
  stats.announced('udp', V4(2));
  stats.announced('udp', V4(3));
  let a = stats.activity();
  assert.equal(a.periods.today.announces, 2);
  assert.equal(a.periods.yesterday.announces, 1);
  assert.equal(a.periods.all_time.announces, 3);
  assert.equal(a.periods.all_time.unique_ips, 3);
  assert.deepEqual(a.daily.slice(-2), [
    { date: '2026-11-26', announces: 1 },
    { date: '2026-11-27', announces: 2 },
  ]);
  clock.advance(3 * DAY); // a gap: yesterday had nothing
  a = stats.activity();
  assert.equal(a.periods.today.announces, 0);
  assert.equal(a.periods.yesterday.announces, 0);
  assert.equal(a.daily.filter((d) => d.announces > 0).length, 2);
  clock.advance(40 * DAY);
  assert.equal(stats.activity().daily.filter((d) => d.announces > 0).length, 0, 'older than 30 days');
});

test('per-second rates per protocol over the last hour, by minute', () => {
  const clock = new ManualClock(START - 30); // 10:00:00
  const stats = new StatsCollector(clock);
  for (let i = 0; i < 120; i++) stats.announced('udp', V4(1));
  for (let i = 0; i < 60; i++) stats.scraped('https', V4(1));
  clock.advance(60 + 59); // 10:01:59, the whole next minute
  for (let i = 0; i < 30; i++) stats.announced('http', V4(1));
  const a = stats.activity().last_hour;
  assert.equal(a.announces_per_second.udp.length, 60);
  assert.equal(a.announces_per_second.udp.at(-2), 2); // 120 in the previous minute
  assert.equal(a.scrapes_per_second.https.at(-2), 1);
  assert.equal(a.announces_per_second.http.at(-1), 0.5); // 30 over 60 s
  assert.equal(a.from, '2026-11-26T09:02:00.000Z');
  clock.advance(3600);
  assert.ok(stats.activity().last_hour.announces_per_second.udp.every((r) => r === 0), 'an hour later the old minutes are gone');
});
