import assert from 'node:assert/strict';
import { test } from 'node:test';
import oracle from 'bencode';
import { decode, encode, toLoggable } from '../../src/protocol/bencode.js';
import { ProtocolError } from '../../src/protocol/errors.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('encodes each type byte-exactly', () => {
  assert.deepEqual(encode(42), b('i42e'));
  assert.deepEqual(encode(-7), b('i-7e'));
  assert.deepEqual(encode(0), b('i0e'));
  assert.deepEqual(encode('spam'), b('4:spam'));
  assert.deepEqual(encode('é'), b('2:\xc3\xa9')); // strings are UTF-8 text
  assert.deepEqual(encode(b('\x00\xff')), b('2:\x00\xff'));
  assert.deepEqual(encode([1, 'a', [2]]), b('li1e1:ali2eee'));
  assert.deepEqual(encode({ b: 1, a: 'x' }), b('d1:a1:x1:bi1ee'));
  assert.throws(() => encode(1.5), TypeError);
});

test('dict keys are raw bytes sorted by byte value, not by UTF-8 text', () => {
  const k1 = '\xff'.repeat(20);
  const k2 = '\x00'.repeat(19) + '\x80';
  const out = encode(new Map([[k1, 1], [k2, 2]]));
  assert.deepEqual(out, b(`d20:${k2}i2e20:${k1}i1ee`));
  const back = decode(out);
  assert.ok(back instanceof Map);
  assert.deepEqual([...back.keys()], [k2, k1]);
});

test('matches the bencode package on ASCII-keyed values (oracle)', () => {
  const values = [
    { 'failure reason': 'bad info_hash' },
    { complete: 3, incomplete: 1, interval: 1800, peers: b('\x7f\x00\x00\x01\x1a\xe1') },
    { list: [1, 2, 3], nested: { z: 'é', a: -1 } },
  ];
  for (const v of values) assert.deepEqual(encode(v), Buffer.from(oracle.encode(v)));
});

test('decodes what it encodes, bytes intact', () => {
  const raw = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const v = decode(encode({ data: raw, n: 123456789012, l: [b(''), 0] }));
  assert.ok(v instanceof Map);
  assert.deepEqual(v.get('data'), raw);
  assert.equal(v.get('n'), 123456789012);
  assert.deepEqual(v.get('l'), [b(''), 0]);
});

test('rejects malformed input with ProtocolError', () => {
  const bad = ['', 'i', 'i12', 'i-0e', 'i03e', 'ie', 'i1.5e', '5:abc', '-1:a', '01:a', 'l', 'd', 'd1:a', 'di1ei2ee', 'd1:ai1e1:ai2ee', 'x', 'i1ei2e', 'l'.repeat(100) + 'e'.repeat(100)];
  for (const s of bad) {
    assert.throws(() => decode(b(s)), ProtocolError, `should reject ${JSON.stringify(s)}`);
  }
});

test('toLoggable shows printable strings as text and binary as hex', () => {
  assert.deepEqual(toLoggable(decode(b('d4:peer2:\x00\x015:hello5:worlde'))), { peer: 'hex:0001', hello: 'world' });
});
