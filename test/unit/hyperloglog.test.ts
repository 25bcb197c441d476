import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXACT_LIMIT, hash32, HyperLogLog } from '../../src/stats/hyperloglog.js';

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

test('exact up to EXACT_LIMIT even when addresses share a register, an estimate after', () => {
  const hll = new HyperLogLog();
  // Both land in register 0 with the same rank: registers alone would count 1.
  hll.addHash(0x00000001);
  hll.addHash(0x00000002);
  assert.equal(hll.estimate(), 2);
  for (let i = 2; i < EXACT_LIMIT; i++) hll.addHash(hash32(ipv4(i), 7));
  assert.equal(hll.estimate(), EXACT_LIMIT);
  hll.addHash(hash32(ipv4(0x0b000000), 7));
  const e = hll.estimate();
  assert.ok(Math.abs(e - (EXACT_LIMIT + 1)) / EXACT_LIMIT < 0.05, `estimate ${e}`);
  hll.clear();
  hll.addHash(0x00000001);
  hll.addHash(0x00000002);
  assert.equal(hll.estimate(), 2, 'clear() starts counting exactly again');
});

test('merging keeps the union exact while both sides are exact, and falls back to the registers once either is not', () => {
  const a = new HyperLogLog();
  const b = new HyperLogLog();
  a.addHash(0x00000001);
  a.addHash(0x00000002);
  b.addHash(0x00000002);
  b.addHash(0x00000003);
  const union = new HyperLogLog();
  union.mergeRegisters(a.exportRegisters());
  union.mergeRegisters(b.exportRegisters());
  assert.equal(union.estimate(), 3, 'three distinct hashes, all in register 0');

  const big = new HyperLogLog();
  for (let i = 0; i < 5_000; i++) big.addHash(hash32(ipv4(0x0a000000 + i), 7));
  union.mergeRegisters(big.exportRegisters());
  const e = union.estimate();
  assert.ok(Math.abs(e - 5_000) / 5_000 < 0.05, `estimate ${e}`);

  const ignored = new HyperLogLog();
  ignored.addHash(0x00000001);
  ignored.mergeRegisters(Buffer.alloc(7).toString('base64'));
  assert.equal(ignored.estimate(), 1, 'a malformed export is ignored');
});
