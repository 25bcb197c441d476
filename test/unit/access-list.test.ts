/** The access list file format and its lookup table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessList, HashSet20, MAX_BAD_LINES_KEPT, parseAccessList } from '../../src/service/access-list.js';
import { ConfigError, resolveOptions } from '../../src/runtime/config.js';

const hex = (tag: string): string => Buffer.from(tag.padEnd(20, '.'), 'latin1').toString('hex');
const raw = (tag: string): string => tag.padEnd(20, '.');

test('40 hex digits in either case, a 64-digit v2 hash for its first 20 bytes, comments and blank lines', () => {
  const v2 = hex('v2-hash') + 'ab'.repeat(12);
  const text = [
    '# the allow list',
    hex('lower'),
    hex('upper').toUpperCase(),
    '',
    `   ${hex('spaced')}\t  # with a comment`,
    v2,
    '\r',
    `${hex('crlf')}\r`,
  ].join('\n');
  const p = parseAccessList(Buffer.from(text));
  assert.deepEqual(p.bad, []);
  assert.equal(p.badLines, 0);
  assert.equal(p.hashes.size, 5);
  for (const tag of ['lower', 'upper', 'spaced', 'v2-hash', 'crlf']) assert.ok(p.hashes.has(raw(tag)), tag);
  assert.ok(!p.hashes.has(raw('other')));
  assert.ok(!p.hashes.has('short'));
});

test('bad lines are reported with their line numbers and skipped; duplicates are counted', () => {
  const text = [hex('good'), 'not a hash', hex('good').slice(0, 39), `${hex('good')}ff`, hex('good'), `zz${hex('x').slice(2)}`].join('\n');
  const p = parseAccessList(Buffer.from(text));
  assert.equal(p.hashes.size, 1);
  assert.equal(p.duplicates, 1);
  assert.deepEqual(p.bad.map((b) => b.line), [2, 3, 4, 6]);
  assert.equal(p.bad[0]!.text, 'not a hash');
  const many = Array.from({ length: 50 }, () => 'junk').join('\n');
  const q = parseAccessList(Buffer.from(many));
  assert.equal(q.badLines, 50);
  assert.equal(q.bad.length, MAX_BAD_LINES_KEPT);
});

test('HashSet20 holds many keys exactly (no false hits)', () => {
  const set = new HashSet20(20_000);
  const key = Buffer.alloc(20);
  for (let i = 0; i < 20_000; i++) {
    key.writeUInt32BE(i * 2, 0);
    assert.ok(set.add(key, 0));
  }
  assert.equal(set.size, 20_000);
  for (let i = 0; i < 40_000; i++) {
    key.writeUInt32BE(i, 0);
    assert.equal(set.has(key.toString('latin1')), i % 2 === 0, `key ${i}`);
  }
});

test('allow mode refuses what is not listed, deny mode what is', () => {
  const p = parseAccessList(Buffer.from(hex('listed')));
  assert.equal(new AccessList('allow', p.hashes).refuses(raw('listed')), null);
  assert.equal(new AccessList('allow', p.hashes).refuses(raw('other')), 'torrent_not_allowed');
  assert.equal(new AccessList('deny', p.hashes).refuses(raw('listed')), 'torrent_denied');
  assert.equal(new AccessList('deny', p.hashes).refuses(raw('other')), null);
});

test('--allow-list and --deny-list together are refused', () => {
  assert.throws(() => resolveOptions({ allowList: '/a', denyList: '/b' }), (e: unknown) => e instanceof ConfigError && e.flag === '--deny-list');
});
