/** The sharded torrent map behaves as one Map: size, get/set/delete, iteration that tolerates deletions. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ShardedMap } from '../../src/store/sharded-map.js';

const key = (i: number): string => createHash('sha1').update(String(i)).digest().toString('latin1');

test('size, get, set, delete and iteration match a plain Map', () => {
  const sharded = new ShardedMap<number>();
  const plain = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    sharded.set(key(i), i);
    plain.set(key(i), i);
  }
  sharded.set(key(7), 70); // an update is not a new entry
  plain.set(key(7), 70);
  assert.equal(sharded.size, 5000);
  assert.equal(sharded.get(key(7)), 70);
  assert.equal(sharded.has(key(5001)), false);
  // Deleting while iterating, as the sweeper does.
  let seen = 0;
  for (const [k, v] of sharded) {
    seen++;
    if (v % 2 === 0) {
      sharded.delete(k);
      plain.delete(k);
    }
  }
  assert.equal(seen, 5000);
  assert.equal(sharded.delete(key(2)), false, 'already gone');
  assert.equal(sharded.size, plain.size);
  assert.deepEqual(new Map(sharded.entries()), plain);
});
