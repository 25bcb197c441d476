/** Event-loop delay: the recent window shows a stall, and forgets it two windows later; the all-time max keeps it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopDelayMonitor } from '../../src/runtime/loop-delay.js';

function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

test('a stall shows in the recent figures, then only in the all-time max', async () => {
  const m = new LoopDelayMonitor();
  m.start(3_600_000); // windows rolled by hand below
  try {
    await new Promise((r) => setTimeout(r, 30));
    block(120);
    await new Promise((r) => setTimeout(r, 30));
    const during = m.figures();
    assert.ok(during.recentMaxMs >= 100, `recent max ${during.recentMaxMs} ms`);
    assert.ok(during.maxSinceStartMs >= 100);
    m.roll(); // the stall is now in the previous window: still recent
    assert.ok(m.figures().recentMaxMs >= 100);
    await new Promise((r) => setTimeout(r, 30));
    m.roll(); // two windows on: forgotten by the recent figures
    const later = m.figures();
    assert.ok(later.recentMaxMs < 100, `recent max ${later.recentMaxMs} ms after two windows`);
    assert.ok(later.maxSinceStartMs >= 100, 'the worst since start is kept');
  } finally {
    m.stop();
  }
});
