/** The torrent table: a hash table in typed arrays; lookups survive growth and backward-shift deletion, extras move with their torrent. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { FIELDS, TorrentTable } from '../../src/store/torrent-table.js';
import { prng } from '../helpers.js';

const key = (i: number): string => createHash('sha1').update(String(i)).digest().toString('latin1');
const DOWNLOADED = FIELDS.indexOf('downloaded');

test('inserts, finds, deletes and grows like a Map, fields and extras following their torrent', () => {
  const table = new TorrentTable<string>();
  const truth = new Map<string, number>();
  const random = prng(7);
  for (let step = 0; step < 40_000; step++) {
    const i = Math.floor(random() * 8000);
    const k = key(i);
    const h = table.find(k);
    if (random() < 0.6) {
      if (h < 0) {
        const n = table.insert(k);
        table.set(n, DOWNLOADED, i);
        if (i % 7 === 0) table.setExtras(n, `x${i}`);
        truth.set(k, i);
      }
    } else if (h >= 0) {
      table.remove(h);
      truth.delete(k);
    }
  }
  assert.equal(table.size, truth.size);
  for (const [k, i] of truth) {
    const h = table.find(k);
    assert.ok(h >= 0, 'every present key is found');
    assert.equal(table.get(h, DOWNLOADED), i);
    assert.equal(table.key(h), k);
    assert.equal(table.extras(h), i % 7 === 0 ? `x${i}` : undefined);
  }
  for (let i = 8000; i < 8100; i++) assert.equal(table.find(key(i)), -1);
  // A scan visits every torrent once.
  const seen = new Set<string>();
  for (let at = 0; ; ) {
    const { handle, next } = table.scan(at);
    if (handle < 0) break;
    seen.add(table.key(handle));
    at = next;
  }
  assert.equal(seen.size, truth.size);
});
