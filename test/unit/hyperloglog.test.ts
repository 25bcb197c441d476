import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hash32, HyperLogLog } from '../../src/stats/hyperloglog.js';

function ipv4(i: number): string {
  return String.fromCharCode((i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
}

test('small counts are exact, repeats do not count', () => {
  const hll = new HyperLogLog();
  assert.equal(hll.estimate(), 0);
  for (let round = 0; round < 3; round++) for (let i = 0; i < 10; i++) hll.addHash(hash32(ipv4(i), 7));
  assert.equal(hll.estimate(), 10);
});

test('large counts are within 5 % in fixed memory', () => {
  const hll = new HyperLogLog();
  for (let i = 0; i < 200_000; i++) hll.addHash(hash32(ipv4(0x0a000000 + i), 7));
  const e = hll.estimate();
  assert.ok(Math.abs(e - 200_000) / 200_000 < 0.05, `estimate ${e}`);
  hll.clear();
  assert.equal(hll.estimate(), 0);
});
