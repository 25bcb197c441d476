/** The sweeper's time-bounded slices: more work while units are cheap, never a long slice, quick slices during a backlog. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/runtime/clock.js';
import type { SwarmStore, SweepResult } from '../../src/store/store.js';
import { CHUNK, SWEEP_TICK_MS, Sweeper, TARGET_SLICE_MS } from '../../src/store/sweeper.js';

/** A store whose expiry costs `msPerUnit` of the injected monotonic clock per unit, with `backlog` expired peers. */
function fakeStore(time: { ms: number }, msPerUnit: () => number, backlog: { peers: number }): SwarmStore {
  const sweep = (_now: number, budget: number): SweepResult => {
    const work = Math.min(budget, backlog.peers);
    backlog.peers -= work;
    time.ms += work * msPerUnit();
    return { removed: work, work, passDone: backlog.peers === 0 };
  };
  const unused = (): never => {
    throw new Error('not used');
  };
  return { sweep, announce: unused, scrape: unused, scrapeAll: unused, totals: unused, topSwarms: unused, dropTorrents: unused };
}

function drive(store: SwarmStore, time: { ms: number }): { sweeper: Sweeper; pauses: number[]; step(): void } {
  const pauses: number[] = [];
  let next: (() => void) | null = null;
  const sweeper = new Sweeper({
    store,
    clock: new ManualClock(),
    logger: pino({ level: 'silent' }),
    monotonicMs: () => time.ms,
    schedule: (fn, ms) => {
      pauses.push(ms);
      next = fn;
      return { cancel: () => (next = null) };
    },
  });
  sweeper.start();
  return {
    sweeper,
    pauses,
    step() {
      const fn = next;
      assert.ok(fn !== null, 'a slice is scheduled');
      next = null;
      fn();
    },
  };
}

test('a slice works until its time is used, in chunks; a backlog is worked off without one-second pauses', () => {
  const time = { ms: 0 };
  const backlog = { peers: 2_000_000 };
  const d = drive(fakeStore(time, () => 0.0002, backlog), time); // 0.2 µs a unit
  let slices = 0;
  for (; slices < 200 && backlog.peers > 0; slices++) {
    d.step();
    // Chunks of CHUNK units until TARGET_SLICE_MS is reached: the cost is bounded by one chunk past the target.
    assert.ok(d.sweeper.lastSliceMs <= TARGET_SLICE_MS + CHUNK * 0.0002 + 1e-9, `slice of ${d.sweeper.lastSliceMs} ms`);
  }
  assert.equal(backlog.peers, 0, '2,000,000 expired peers purged within 200 slices');
  assert.ok(slices <= 2_000_000 / (TARGET_SLICE_MS / 0.0002) + 1, `${slices} slices: each did about TARGET_SLICE_MS of work`);
  assert.equal(d.pauses[0], SWEEP_TICK_MS);
  assert.ok(d.pauses.slice(1, -1).every((p) => p <= 4 * (TARGET_SLICE_MS + 1)), 'slices follow each other quickly during a backlog');
  assert.equal(d.pauses.at(-1), SWEEP_TICK_MS, 'one tick once the backlog is gone');
});

test('dear units (a huge swarm) make a slice do less work, cheap ones more', () => {
  const time = { ms: 0 };
  const backlog = { peers: 10_000_000 };
  let cost = 0.0001;
  const d = drive(fakeStore(time, () => cost, backlog), time);
  d.step();
  const cheapWork = d.sweeper.lastSliceWork;
  cost = 0.002; // 20x dearer per unit
  d.step();
  assert.ok(d.sweeper.lastSliceMs <= TARGET_SLICE_MS + CHUNK * cost + 1e-9);
  assert.ok(d.sweeper.lastSliceWork < cheapWork / 10, `${d.sweeper.lastSliceWork} units vs ${cheapWork}`);
  assert.ok(d.sweeper.worstSliceMs < 20);
});
