import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../src/protocol/errors.js';
import {
  decodeRequest,
  decodeResponse,
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeRequest,
  encodeScrapeResponse,
  UdpRequestError,
} from '../../src/protocol/udp.js';
import { peerEntry, peerSetOf } from '../../src/protocol/peers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const CONN = hex('0102030405060708');
const HASH = '\xaa'.repeat(20);
const PEER = '-TR3000-'.padEnd(20, '\x01');

test('connect request and response, byte-exact', () => {
  const req = encodeConnectRequest(0xdeadbeef);
  assert.deepEqual(req, hex('00000417 27101980 00000000 deadbeef'));
  assert.deepEqual(decodeRequest(req), { action: 'connect', transactionId: 0xdeadbeef });
  const res = encodeConnectResponse(0xdeadbeef, CONN);
  assert.deepEqual(res, hex('00000000 deadbeef 0102030405060708'));
  assert.deepEqual(decodeResponse(res), { action: 'connect', transactionId: 0xdeadbeef, connectionId: CONN });
});

test('announce request: 98 bytes, every field where BEP 15 puts it', () => {
  const announce = { infoHash: HASH, peerId: PEER, downloaded: 5, left: 2 ** 40, uploaded: 7, event: 'started' as const, numwant: null, port: 6881 };
  const req = encodeAnnounceRequest({ connectionId: CONN, transactionId: 42, announce, key: 0x11223344 });
  assert.deepEqual(
    req,
    hex(
      '0102030405060708 00000001 0000002a' +
        'aa'.repeat(20) +
        Buffer.from(PEER, 'latin1').toString('hex') +
        '0000000000000005 0000010000000000 0000000000000007' +
        '00000002 00000000 11223344 ffffffff 1ae1',
    ),
  );
  const decoded = decodeRequest(req);
  assert.equal(decoded.action, 'announce');
  assert.ok(decoded.action === 'announce');
  assert.deepEqual(decoded.announce, announce);
  assert.deepEqual(decoded.connectionId, CONN);
  assert.equal(decoded.key, 0x11223344);
  assert.equal(decoded.urlData, '');
});

test('BEP 41 URL data round-trips, split in 255-byte options', () => {
  const urlData = '/announce?passkey=' + 'k'.repeat(300);
  const announce = { infoHash: HASH, peerId: PEER, downloaded: 0, left: 0, uploaded: 0, event: 'none' as const, numwant: 10, port: 1 };
  const req = encodeAnnounceRequest({ connectionId: CONN, transactionId: 1, announce, key: 0, urlData });
  assert.equal(req.length, 98 + 2 + 255 + 2 + (urlData.length - 255) + 1);
  const decoded = decodeRequest(req);
  assert.ok(decoded.action === 'announce');
  assert.equal(decoded.urlData, urlData);
});

test('scrape request and response', () => {
  const h2 = '\xbb'.repeat(20);
  const req = encodeScrapeRequest(CONN, 9, [HASH, h2]);
  assert.deepEqual(req, hex('0102030405060708 00000002 00000009' + 'aa'.repeat(20) + 'bb'.repeat(20)));
  assert.deepEqual(decodeRequest(req), { action: 'scrape', connectionId: CONN, transactionId: 9, infoHashes: [HASH, h2] });
  const files = [
    { complete: 1, downloaded: 2, incomplete: 3 },
    { complete: 0, downloaded: 0, incomplete: 0 },
  ];
  const res = encodeScrapeResponse(9, files);
  assert.deepEqual(res, hex('00000002 00000009 00000001 00000002 00000003 000000000000000000000000'));
  assert.deepEqual(decodeResponse(res), { action: 'scrape', transactionId: 9, files });
});

test('announce response: 6-byte peers over IPv4, 18-byte (mapped) over IPv6', () => {
  const peers = [peerEntry(PEER, '\x7f\x00\x00\x01\x1a\xe1')];
  const result = (family: 4 | 6) => ({ complete: 4, incomplete: 5, downloaded: 0, interval: 1800, minInterval: 60, peers: peerSetOf(peers, family) });
  const v4 = encodeAnnounceResponse(7, result(4), 4);
  assert.deepEqual(v4, hex('00000001 00000007 00000708 00000005 00000004 7f0000011ae1'));
  const v6 = encodeAnnounceResponse(7, result(6), 6);
  assert.deepEqual(v6, hex('00000001 00000007 00000708 00000005 00000004 00000000000000000000ffff7f0000011ae1'));
  const decoded = decodeResponse(v6);
  assert.ok(decoded.action === 'announce');
  assert.equal(decoded.peers.length, 18);
  assert.equal(decoded.seeders, 4);
  assert.equal(decoded.leechers, 5);
});

test('error response', () => {
  const res = encodeErrorResponse(3, 'invalid connection id');
  assert.deepEqual(res, Buffer.concat([hex('00000003 00000003'), Buffer.from('invalid connection id')]));
  assert.deepEqual(decodeResponse(res), { action: 'error', transactionId: 3, message: 'invalid connection id' });
});

test('malformed requests: short ones are dropped, others are errors carrying the transaction id', () => {
  assert.throws(() => decodeRequest(Buffer.alloc(15)), (e: unknown) => e instanceof ProtocolError && !(e instanceof UdpRequestError));
  const badMagic = hex('00000000 00000000 00000000 00000005');
  assert.throws(() => decodeRequest(badMagic), (e: unknown) => e instanceof UdpRequestError && e.transactionId === 5);
  const shortAnnounce = Buffer.concat([CONN, hex('00000001 00000006'), Buffer.alloc(50)]);
  assert.throws(() => decodeRequest(shortAnnounce), (e: unknown) => e instanceof UdpRequestError && e.transactionId === 6);
  const noHashes = Buffer.concat([CONN, hex('00000002 00000007')]);
  assert.throws(() => decodeRequest(noHashes), (e: unknown) => e instanceof UdpRequestError && e.code === 'short_scrape');
  const unknown = Buffer.concat([CONN, hex('00000009 00000008')]);
  assert.throws(() => decodeRequest(unknown), (e: unknown) => e instanceof UdpRequestError && e.code === 'unknown_action');
  const announce = { infoHash: HASH, peerId: PEER, downloaded: 0, left: 0, uploaded: 0, event: 'none' as const, numwant: 1, port: 1 };
  const badEvent = encodeAnnounceRequest({ connectionId: CONN, transactionId: 1, announce, key: 0 });
  badEvent.writeUInt32BE(4, 80);
  assert.throws(() => decodeRequest(badEvent), (e: unknown) => e instanceof UdpRequestError && e.code === 'invalid_event');
});

test('malformed responses throw ProtocolError', () => {
  assert.throws(() => decodeResponse(Buffer.alloc(4)), ProtocolError);
  assert.throws(() => decodeResponse(hex('00000000 00000001 0102')), ProtocolError);
  assert.throws(() => decodeResponse(hex('00000002 00000001 0102')), ProtocolError);
  assert.throws(() => decodeResponse(hex('00000009 00000001')), ProtocolError);
});
