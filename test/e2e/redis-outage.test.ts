/**
 * Redis goes away under load (stopped and started again; or frozen with
 * SIGSTOP, keeping its connections): every announce still gets an answer
 * within 2 s, errors only during the gap, service back without a restart of
 * the tracker, and one log line for the outage and one for the recovery.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ERRORS } from '../../src/protocol/errors.js';
import { startInstance, type Instance } from '../daemon-process.js';
import { httpGet, id20, waitFor } from '../helpers.js';
import { redisSkip, startRedis, type TestRedis } from '../redis-server.js';
import { httpAnnounce, udpAnnounce, type Outcome } from '../tracker-client.js';

const REPLY_LIMIT_MS = 2000;
const STORE_TEXT = ERRORS.store_unavailable.text;

interface Sample {
  at: number;
  ms: number;
  outcome: Outcome | null;
  error: string | null;
}

/** Announces (UDP and HTTP in turn) every 25 ms until `stop` resolves; every one recorded. */
async function load(t: Instance, stop: Promise<void>): Promise<Sample[]> {
  const samples: Sample[] = [];
  let done = false;
  void stop.then(() => {
    done = true;
  });
  const inFlight: Promise<void>[] = [];
  for (let i = 0; !done; i++) {
    const at = Date.now();
    const a = { infoHash: id20('outage'), peerId: id20(`o${i % 50}`), port: 9000 + (i % 50) };
    const p = (i % 2 === 0 ? udpAnnounce(t.port, a, REPLY_LIMIT_MS + 1000) : httpAnnounce(t.port, a)).then(
      (outcome) => void samples.push({ at, ms: Date.now() - at, outcome, error: null }),
      (err: unknown) => void samples.push({ at, ms: Date.now() - at, outcome: null, error: String(err) }),
    );
    inFlight.push(p);
    await new Promise((r) => setTimeout(r, 25));
  }
  await Promise.all(inFlight);
  return samples.sort((x, y) => x.at - y.at);
}

function check(samples: Sample[], gapStart: number, gapEnd: number): void {
  assert.deepEqual(samples.filter((s) => s.error !== null).map((s) => s.error), [], 'every request was answered');
  const slow = samples.filter((s) => s.ms > REPLY_LIMIT_MS);
  assert.deepEqual(slow.map((s) => s.ms), [], `every reply within ${REPLY_LIMIT_MS} ms`);
  const failed = samples.filter((s) => s.outcome?.failure !== null);
  assert.ok(failed.length > 0, 'the gap was seen');
  assert.deepEqual([...new Set(failed.map((s) => s.outcome?.failure))], [STORE_TEXT], 'the one error clients get is the store error');
  // Answered before the gap began: a request still in flight when Redis went
  // away may rightly get the store error.
  const before = samples.filter((s) => s.at + s.ms < gapStart);
  assert.ok(before.length > 10, 'load ran before the gap');
  const badBefore = before.filter((s) => s.outcome?.failure !== null);
  assert.deepEqual(badBefore, [], 'all good before the gap');
  const firstOkAfter = samples.find((s) => s.at >= gapEnd && s.outcome?.failure === null);
  assert.ok(firstOkAfter !== undefined, 'service came back');
  assert.ok(firstOkAfter.at - gapEnd < 5000, `back within 5 s of Redis (${firstOkAfter.at - gapEnd} ms)`);
  assert.ok(samples.filter((s) => s.at > firstOkAfter.at + 200).every((s) => s.outcome?.failure === null), 'all good once back');
}

describe('Redis unreachable under load', { skip: redisSkip, concurrency: 1 }, () => {
  let redis: TestRedis;
  let t: Instance;
  before(async () => {
    redis = await startRedis();
    t = await startInstance(redis.url);
  });
  after(async () => {
    await t?.daemon.stop();
    await redis?.stop();
  });

  const count = (msg: string): number => t.daemon.lines().filter((l) => l['msg'] === msg).length;

  test('Redis stopped for 3 s and started again', { timeout: 60_000 }, async () => {
    let release!: () => void;
    const stop = new Promise<void>((r) => (release = r));
    const running = load(t, stop);
    await new Promise((r) => setTimeout(r, 1000));
    const gapStart = Date.now();
    await redis.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await redis.restart();
    const gapEnd = Date.now();
    await t.daemon.waitForLine('redis reachable again', 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    release();
    check(await running, gapStart, gapEnd);
    assert.equal(count('redis unreachable: announces and scrapes get an error reply until it is back'), 1, 'one line for the outage');
    assert.equal(count('redis reachable again'), 1, 'one line for the recovery');
  });

  test('Redis frozen (SIGSTOP) for 3 s: replies still within 2 s', { timeout: 60_000 }, async () => {
    let release!: () => void;
    const stop = new Promise<void>((r) => (release = r));
    const running = load(t, stop);
    await new Promise((r) => setTimeout(r, 1000));
    const gapStart = Date.now();
    redis.pause();
    await new Promise((r) => setTimeout(r, 3000));
    redis.resume();
    const gapEnd = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    release();
    check(await running, gapStart, gapEnd);
    assert.equal(count('redis unreachable: announces and scrapes get an error reply until it is back'), 2, 'one more line for this outage');
    assert.equal(count('redis reachable again'), 2);
  });

  test('GET /health: 200 while Redis answers, 503 while it is stopped', { timeout: 30_000 }, async () => {
    const health = async (): Promise<{ status: number; body: unknown }> => {
      const r = await httpGet(t.webPort, '/health');
      return { status: r.status, body: JSON.parse(r.body.toString()) };
    };
    assert.deepEqual(await health(), { status: 200, body: { status: 'ok', listeners: { up: 2, expected: 2 }, store: 'ok' } });
    redis.pause();
    try {
      const started = Date.now();
      assert.deepEqual(await health(), { status: 503, body: { status: 'unavailable', listeners: { up: 2, expected: 2 }, store: 'unreachable' } });
      assert.ok(Date.now() - started < 2000, 'answered within 2 s');
    } finally {
      redis.resume();
    }
    await waitFor(async () => (await health()).status === 200, 5000, '/health back to 200');
  });
});
