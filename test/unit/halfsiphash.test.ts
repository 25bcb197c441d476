import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HalfSipHash } from '../../src/frontend/halfsiphash.js';

test('HalfSipHash-2-4 (32-bit) matches the reference test vectors', () => {
  // Key 00 01 … 07; message i is the bytes 00 01 … (i-1); tags as little-endian u32.
  const expected = [0x5b9f35a9, 0xb85a4727, 0x03a662fa, 0x04e7fe8a, 0x89466e2a, 0x69b6fac5, 0x23fc6358, 0xc563cf8b, 0x8f84b8d0, 0x79e706f8];
  const h = new HalfSipHash(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]));
  const msg = Uint8Array.from({ length: 16 }, (_, i) => i);
  expected.forEach((tag, len) => assert.equal(h.hash(msg, len), tag, `length ${len}`));
});
