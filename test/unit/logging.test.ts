/** Log levels, the readable terminal format, and the one-line-a-minute report. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/runtime/clock.js';
import { ConfigError, resolveOptions } from '../../src/runtime/config.js';
import { logLevelOf } from '../../src/runtime/log.js';
import { formatLogLine } from '../../src/runtime/pretty-log.js';
import { StatsCollector } from '../../src/stats/collector.js';
import { MinuteReport } from '../../src/stats/minute-report.js';
import { localSource } from '../../src/stats/snapshot.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { LogCapture } from '../helpers.js';

test('--log-level: the five levels, info by default; --verbose means debug; anything else is refused naming the flag', () => {
  assert.equal(resolveOptions({}).logLevel, 'info');
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug'] as const) assert.equal(logLevelOf(resolveOptions({ logLevel: level })), level);
  assert.equal(logLevelOf(resolveOptions({ logLevel: 'warn', verbose: true })), 'debug');
  assert.throws(() => resolveOptions({ logLevel: 'loud' as 'info' }), (e: unknown) => e instanceof ConfigError && e.flag === '--log-level' && /one of fatal, error, warn, info, debug/.test(e.message));
});

test('a JSON log line reads as time, level, message and fields', () => {
  const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 11, 3, 12, 4, 31), pid: 1, hostname: 'h', name: 'wildkat-tracker', protocol: 'udp', address: '0.0.0.0', port: 6969, msg: 'listening' });
  assert.equal(formatLogLine(line), '12:04:31 INFO  listening protocol=udp address=0.0.0.0 port=6969');
  const warn = JSON.stringify({ level: 40, time: 0, msg: 'bad request', reason: 'missing info_hash', remote: '::1', counts: { a: 1 } });
  assert.equal(formatLogLine(warn), '00:00:00 WARN  bad request reason="missing info_hash" remote=::1 counts={"a":1}');
  assert.equal(formatLogLine('not json'), 'not json');
});

test('the minute report: one line with the minute\'s announces and scrapes per transport and the live swarm, none for a quiet minute', async () => {
  const clock = new ManualClock();
  const stats = new StatsCollector(clock, 1);
  const store = new MemoryStore({ peerTtl: 600 });
  const logs = new LogCapture();
  const report = new MinuteReport(localSource(stats, null), store, clock, pino(logs));
  const ip = '\x7f\x00\x00\x01';
  await report.tick();
  store.announce({ infoHash: 'a'.repeat(20), peerId: 'p'.repeat(20), addr: ip + '\x1a\xe1', seeder: false, event: 'started', numwant: 0 }, clock.now());
  for (let i = 0; i < 3; i++) stats.announced('udp', ip);
  stats.announced('http', ip);
  stats.scraped('udp', ip);
  clock.advance(60);
  await report.tick();
  assert.deepEqual(
    logs.lines.map((l) => [l['msg'], l['announces'], l['scrapes'], l['peers'], l['torrents']]),
    [['the last minute', { udp: 3, http: 1 }, { udp: 1 }, 1, 1]],
  );
  clock.advance(60);
  await report.tick();
  assert.equal(logs.lines.length, 1, 'nothing happened: no line');
});
