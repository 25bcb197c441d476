import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Address6 } from 'ip-address';
import { bytesToIp, compactAddr, decodeCompactPeers, entryAddr, entryPeerId, ipToBytes, mappedIPv4, peerEntry, peerSetEntries, peerSetOf, writePeerSet } from '../../src/protocol/peers.js';

test('IP text to raw bytes and back', () => {
  assert.equal(ipToBytes('127.0.0.1'), '\x7f\x00\x00\x01');
  assert.equal(ipToBytes('255.1.0.10'), '\xff\x01\x00\x0a');
  assert.equal(ipToBytes('::1'), '\x00'.repeat(15) + '\x01');
  assert.equal(ipToBytes('2001:db8::ff00:42:8329'), '\x20\x01\x0d\xb8' + '\x00'.repeat(6) + '\xff\x00\x00\x42\x83\x29');
  // A dual-stack socket reports IPv4 clients as mapped addresses: they are IPv4 peers.
  assert.equal(ipToBytes('::ffff:10.1.2.3'), '\x0a\x01\x02\x03');
  assert.equal(ipToBytes('fe80::1%eth0'), '\xfe\x80' + '\x00'.repeat(13) + '\x01');
  assert.equal(ipToBytes('not an ip'), null);
  assert.equal(ipToBytes('1.2.3.256'), null);
  assert.equal(bytesToIp('\x7f\x00\x00\x01'), '127.0.0.1');
  assert.equal(bytesToIp(ipToBytes('2001:db8::1')!), '2001:db8::1');
  assert.equal(bytesToIp(Buffer.from('00000000000000000000ffff7f000001', 'hex')), '::ffff:127.0.0.1');
});

test('::ffff: mapping agrees with ip-address', () => {
  assert.equal(mappedIPv4('192.0.2.33'), '::ffff:192.0.2.33');
  const viaLibrary = Buffer.from(new Address6('::ffff:192.0.2.33').toUnsignedByteArray());
  assert.deepEqual(viaLibrary, Buffer.from('\x00'.repeat(10) + '\xff\xff\xc0\x00\x02\x21', 'latin1'));
});

test('compact peers: 6 bytes IPv4, 18 bytes IPv6, IPv4 mapped for IPv6 clients', () => {
  const v4 = peerEntry('x'.repeat(20), compactAddr(ipToBytes('10.0.0.1')!, 6881));
  const v6 = peerEntry('y'.repeat(20), compactAddr(ipToBytes('2001:db8::2')!, 51413));
  assert.equal(entryAddr(v4), '\x0a\x00\x00\x01\x1a\xe1');
  assert.equal(entryPeerId(v4), 'x'.repeat(20));
  assert.equal(v4.id.length, 26);
  const out4 = Buffer.alloc(6);
  assert.equal(writePeerSet(peerSetOf([v4, v6], 4), out4, 0), 6); // an IPv6 peer never enters an IPv4 list
  assert.deepEqual(out4, Buffer.from('0a0000011ae1', 'hex'));
  const out6 = Buffer.alloc(36);
  const set6 = peerSetOf([v6, v4], 6);
  assert.equal(writePeerSet(set6, out6, 0), 36);
  // Back to entries: the mapped IPv4 address is its 6 bytes again.
  assert.deepEqual(peerSetEntries(set6).map((e) => e.id), [v6.id, v4.id]);
  assert.deepEqual(out6, Buffer.from('20010db8000000000000000000000002c8d5' + '00000000000000000000ffff0a0000011ae1', 'hex'));
  assert.deepEqual(decodeCompactPeers(out6, 6), [
    { ip: '2001:db8::2', port: 51413 },
    { ip: '::ffff:10.0.0.1', port: 6881 },
  ]);
  assert.deepEqual(decodeCompactPeers(out4, 4), [{ ip: '10.0.0.1', port: 6881 }]);
});

test('dotted quads: exactly four parts of 0-255 without leading zeros', () => {
  for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '1..3.4', '1.2.3.', '.1.2.3', '256.1.1.1', '1.2.3.4a', ' 1.2.3.4', '1.2.3.-4', '']) {
    assert.equal(ipToBytes(bad), null, bad);
  }
  assert.equal(ipToBytes('0.0.0.0'), '\0\0\0\0');
  assert.equal(ipToBytes('255.255.255.255'), '\xff\xff\xff\xff');
  assert.equal(ipToBytes('10.200.3.45'), '\x0a\xc8\x03\x2d');
});
