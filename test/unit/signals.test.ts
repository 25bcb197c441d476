/** Signals: the final save is never cut by a deadline; a second signal exits at once, loudly. */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { pino } from 'pino';
import { handleSignals } from '../../src/tracker/signals.js';
import { LogCapture } from '../helpers.js';

function setup(): { fire(signal: NodeJS.Signals): void; exits: number[]; finishClose(): void; reloads: () => number; logs: LogCapture } {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const exits: number[] = [];
  let finish: () => void = () => undefined;
  let reloads = 0;
  const logs = new LogCapture();
  const tracker = {
    close: () => new Promise<void>((resolve) => (finish = resolve)),
    reload: () => {
      reloads++;
    },
  };
  handleSignals(tracker, { on: (s, fn) => handlers.set(s, fn), exit: (code) => exits.push(code), logger: pino({ level: 'info' }, logs) });
  return { fire: (s) => handlers.get(s)!(), exits, finishClose: () => finish(), reloads: () => reloads, logs };
}

test('SIGTERM waits for the final save however long it takes, then exits 0', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  try {
    const s = setup();
    s.fire('SIGTERM');
    // A save of millions of peers may take a minute: no deadline may cut it.
    mock.timers.tick(10 * 60_000);
    await Promise.resolve();
    assert.deepEqual(s.exits, []);
    s.finishClose();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(s.exits, [0]);
  } finally {
    mock.timers.reset();
  }
});

test('a second SIGTERM or SIGINT exits 1 at once and says the previous snapshot is kept', () => {
  const s = setup();
  s.fire('SIGINT');
  s.fire('SIGTERM');
  assert.deepEqual(s.exits, [1]);
  const line = s.logs.lines.find((l) => l.level === 50);
  assert.match(String(line?.msg), /second signal: exiting now.*previous snapshot/);
});

test('SIGHUP reloads (certificate, access list) and does not stop', () => {
  const s = setup();
  s.fire('SIGHUP');
  assert.equal(s.reloads(), 1);
  assert.deepEqual(s.exits, []);
});
