/** The client side of the HTTP codec against the server side: what wildkat-query sends parses, what the tracker answers decodes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../src/protocol/errors.js';
import { encodeAnnounceReply, encodeFailure, encodeScrapeReply, parseAnnounceQuery, parseScrapeQuery } from '../../src/protocol/http.js';
import { buildAnnounceQuery, buildScrapeQuery, decodeAnnounceReply, decodeScrapeReply } from '../../src/protocol/http-client.js';
import { compactAddr, peerEntry, peerSetEntries, peerSetOf } from '../../src/protocol/peers.js';

const HASH = Buffer.from('00ff'.repeat(5) + 'a0'.repeat(10), 'hex').toString('latin1');
const PEER = Buffer.from('2d5742303030312d' + 'ee'.repeat(12), 'hex').toString('latin1');

test('an announce query a client builds is the request the tracker parses, raw bytes intact', () => {
  const q = buildAnnounceQuery({ infoHash: HASH, peerId: PEER, port: 6881, left: 0, event: 'completed', numwant: 30, compact: true, noPeerId: true, key: 0xbeef });
  const req = parseAnnounceQuery(q);
  assert.deepEqual(
    { infoHash: req.infoHash, peerId: req.peerId, port: req.port, left: req.left, event: req.event, numwant: req.numwant, compact: req.compact, noPeerId: req.noPeerId },
    { infoHash: HASH, peerId: PEER, port: 6881, left: 0, event: 'completed', numwant: 30, compact: true, noPeerId: true },
  );
  assert.match(q, /&key=0000BEEF&/);
  assert.deepEqual(parseScrapeQuery(buildScrapeQuery([HASH, PEER])), [HASH, PEER]);
  assert.equal(buildScrapeQuery([]), '');
});

test('announce replies decode as the tracker encoded them: compact, peers6, dict, failure', () => {
  const result = {
    complete: 3,
    incomplete: 4,
    downloaded: 5,
    interval: 1800,
    minInterval: 900,
    peers: peerSetOf([peerEntry(PEER, compactAddr('\x0a\x00\x00\x01', 6881)), peerEntry(HASH, compactAddr('\x0a\x00\x00\x02', 51413))], 4),
  };
  const options = { family: 4 as const, compact: true, noPeerId: false, trackerId: 'wk', externalIp: '\x7f\x00\x00\x01' };
  const compact = decodeAnnounceReply(encodeAnnounceReply(result, options));
  assert.deepEqual(
    { ...compact, peers: compact.peers.map((p) => `${p.ip}:${p.port}`) },
    {
      interval: 1800, minInterval: 900, complete: 3, incomplete: 4, downloaded: 5,
      peers: ['10.0.0.1:6881', '10.0.0.2:51413'], peersFormat: 'compact', ipv4Bytes: 12, ipv6Bytes: 0, hasPeers6: false,
      warning: null, failure: null, externalIp: '127.0.0.1', trackerId: 'wk',
    },
  );
  const as6 = { ...result, peers: peerSetOf(peerSetEntries(result.peers), 6) };
  const v6 = decodeAnnounceReply(encodeAnnounceReply(as6, { ...options, family: 6 }));
  assert.equal(v6.hasPeers6, true);
  assert.deepEqual(v6.peers.map((p) => p.ip), ['::ffff:10.0.0.1', '::ffff:10.0.0.2']);
  const dict = decodeAnnounceReply(encodeAnnounceReply(result, { ...options, compact: false }));
  assert.equal(dict.peersFormat, 'dict');
  assert.deepEqual(dict.peers[0], { ip: '10.0.0.1', port: 6881, peerId: Buffer.from(PEER, 'latin1').toString('hex') });
  assert.equal(decodeAnnounceReply(encodeFailure('torrent not allowed')).failure, 'torrent not allowed');
  assert.throws(() => decodeAnnounceReply(Buffer.from('i42e')), (e: unknown) => e instanceof ProtocolError && e.code === 'bad_bencode');
  assert.throws(() => decodeAnnounceReply(Buffer.from('<html>')), ProtocolError);
});

test('scrape replies decode with raw-byte keys as hex, in the tracker\'s order, with flags', () => {
  const r = decodeScrapeReply(encodeScrapeReply([{ infoHash: HASH, complete: 1, incomplete: 2, downloaded: 3 }], 900));
  assert.deepEqual(r, { files: [{ infoHash: Buffer.from(HASH, 'latin1').toString('hex'), complete: 1, incomplete: 2, downloaded: 3 }], minRequestInterval: 900, failure: null });
});
