import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/runtime/clock.js';
import { CONNECTION_ID_LIFETIME, ConnectionIds } from '../../src/frontend/connection-id.js';

const IP_A = '\x7f\x00\x00\x01';
const IP_B = '\x7f\x00\x00\x02';

test('an id verifies for its address for 2 minutes, then not', () => {
  const clock = new ManualClock();
  const ids = new ConnectionIds(clock);
  const id = ids.issue(IP_A);
  assert.equal(id.length, 8);
  assert.equal(ids.verify(id, IP_A), true);
  assert.equal(ids.verify(id, IP_B), false);
  clock.advance(CONNECTION_ID_LIFETIME);
  assert.equal(ids.verify(id, IP_A), true);
  clock.advance(1);
  assert.equal(ids.verify(id, IP_A), false);
});

test('ids from another secret, tampered ids and future times are refused', () => {
  const clock = new ManualClock();
  const ids = new ConnectionIds(clock);
  const other = new ConnectionIds(clock);
  assert.equal(ids.verify(other.issue(IP_A), IP_A), false);
  const id = ids.issue(IP_A);
  id[7] = id[7]! ^ 1;
  assert.equal(ids.verify(id, IP_A), false);
  const future = new ConnectionIds(new ManualClock(2_000_000), Buffer.alloc(8));
  assert.equal(new ConnectionIds(clock, Buffer.alloc(8)).verify(future.issue(IP_A), IP_A), false);
});
