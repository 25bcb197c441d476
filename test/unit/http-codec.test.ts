import assert from 'node:assert/strict';
import { test } from 'node:test';
import oracle from 'bencode';
import { decode } from '../../src/protocol/bencode.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import {
  encodeAnnounceReply,
  encodeFailure,
  encodeScrapeReply,
  parseAnnounceQuery,
  parseScrapeQuery,
  percentDecode,
  percentEncode,
} from '../../src/protocol/http.js';
import { peerEntry, peerSetOf, type PeerEntry } from '../../src/protocol/peers.js';
import type { AnnounceResult } from '../../src/protocol/types.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');

test('percent-decoding keeps raw bytes: >= 0x80, %00, mixed case, + as space', () => {
  assert.equal(percentDecode('%00%7f%80%FF%fe'), '\x00\x7f\x80\xff\xfe');
  assert.equal(percentDecode('a+b%2B'), 'a b+');
  assert.equal(percentDecode('%zz%4'), '%zz%4'); // not an escape: literal
  assert.equal(percentDecode(percentEncode(ALL_BYTES)), ALL_BYTES);
  assert.equal(percentEncode('\x12\x34AZaz09-._~ '), '%124AZaz09-._~%20');
});

function announceQuery(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const HASH = '\x00\x80\xff'.padEnd(20, '\xc3');
const PEER = '-qB5140-'.padEnd(20, '\x00');
const base = { info_hash: percentEncode(HASH), peer_id: percentEncode(PEER), port: '6881', uploaded: '0', downloaded: '0', left: '1000' };

test('parses an announce with raw 20-byte info_hash and peer_id', () => {
  const req = parseAnnounceQuery(announceQuery({ ...base, event: 'started', numwant: '30', compact: '1', no_peer_id: '1' }));
  assert.equal(req.infoHash, HASH);
  assert.equal(req.peerId, PEER);
  assert.equal(req.port, 6881);
  assert.equal(req.left, 1000);
  assert.equal(req.event, 'started');
  assert.equal(req.numwant, 30);
  assert.equal(req.compact, true);
  assert.equal(req.noPeerId, true);
  const dict = parseAnnounceQuery(announceQuery({ ...base, compact: '0', numwant: '-1' }));
  assert.equal(dict.compact, false);
  assert.equal(dict.noPeerId, false);
  assert.equal(dict.numwant, null);
  assert.equal(dict.event, 'none');
});

test('rejects bad announces with a ProtocolError naming the field', () => {
  const cases: [Record<string, string | undefined>, RegExp][] = [
    [{ info_hash: undefined }, /missing info_hash/],
    [{ info_hash: percentEncode(HASH.slice(0, 19)) }, /invalid info_hash: must be 20 bytes, got 19/],
    [{ info_hash: percentEncode(HASH) + '%00' }, /got 21/],
    [{ peer_id: undefined }, /missing peer_id/],
    [{ port: '0' }, /invalid port/],
    [{ port: '99999' }, /invalid port/],
    [{ port: 'http' }, /invalid port/],
    [{ port: undefined }, /missing port/],
    [{ left: 'lots' }, /invalid left/],
    [{ left: '-1' }, /invalid left/],
    [{ event: 'exploded' }, /invalid event/],
    [{ numwant: 'many' }, /invalid numwant/],
  ];
  for (const [change, message] of cases) {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...base, ...change })) if (v !== undefined) fields[k] = v;
    assert.throws(() => parseAnnounceQuery(announceQuery(fields)), (err: unknown) => err instanceof ProtocolError && message.test(err.message));
  }
});

test('parses scrape hashes, de-duplicated; rejects a short one', () => {
  const h2 = '\x01'.repeat(20);
  assert.deepEqual(parseScrapeQuery(`info_hash=${percentEncode(HASH)}&info_hash=${percentEncode(h2)}&info_hash=${percentEncode(HASH)}`), [HASH, h2]);
  assert.deepEqual(parseScrapeQuery(''), []);
  assert.throws(() => parseScrapeQuery('info_hash=abc'), ProtocolError);
});

const V4_ADDR = '\x7f\x00\x00\x01\x1a\xe1'; // 127.0.0.1:6881
const V4_PEER = peerEntry('A'.repeat(20), V4_ADDR);
const V6_ADDR = '\x20\x01\x0d\xb8' + '\x00'.repeat(11) + '\x01' + '\x1a\xe2'; // [2001:db8::1]:6882
const V6_PEER = peerEntry('B'.repeat(20), V6_ADDR);
const result = (peers: PeerEntry[], family: 4 | 6): AnnounceResult => ({ complete: 1, incomplete: 2, downloaded: 3, interval: 1800, minInterval: 60, peers: peerSetOf(peers, family) });

test('compact IPv4 announce reply, byte-exact and equal to the oracle', () => {
  const out = encodeAnnounceReply(result([V4_PEER], 4), { family: 4, compact: true, noPeerId: true, trackerId: 'Wildkat', externalIp: '\x7f\x00\x00\x02' });
  const expected = b(
    'd8:completei1e10:downloadedi3e11:external ip4:\x7f\x00\x00\x02' +
      '10:incompletei2e8:intervali1800e12:min intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe110:tracker id7:Wildkate',
  );
  assert.deepEqual(out, expected);
  const viaOracle = oracle.encode({
    complete: 1,
    downloaded: 3,
    'external ip': b('\x7f\x00\x00\x02'),
    incomplete: 2,
    interval: 1800,
    'min interval': 60,
    peers: b(V4_ADDR),
    'tracker id': 'Wildkat',
  });
  assert.deepEqual(out, Buffer.from(viaOracle));
});

test('compact IPv6 reply: peers6 with 18-byte entries, IPv4 peers ::ffff:-mapped, 16-byte external ip', () => {
  const ext = '\x00'.repeat(15) + '\x01';
  const out = encodeAnnounceReply(result([V6_PEER, V4_PEER], 6), { family: 6, compact: true, noPeerId: true, trackerId: 'Wildkat', externalIp: ext });
  const mapped = '\x00'.repeat(10) + '\xff\xff' + V4_ADDR;
  const expected = b(
    `d8:completei1e10:downloadedi3e11:external ip16:${ext}10:incompletei2e8:intervali1800e12:min intervali60e` +
      `5:peers0:6:peers636:${V6_ADDR}${mapped}10:tracker id7:Wildkate`,
  );
  assert.deepEqual(out, expected);
});

test('warning message is bencoded after tracker id', () => {
  const out = encodeAnnounceReply(result([], 4), { family: 4, compact: true, noPeerId: true, trackerId: 'W', externalIp: null, warning: 'slow down' });
  assert.match(out.toString('latin1'), /5:peers0:10:tracker id1:W15:warning message9:slow downe$/);
});

test('dict peers carry ip, port and peer id unless no_peer_id; IPv6 clients see mapped IPv4', () => {
  const withId = decode(encodeAnnounceReply(result([V4_PEER], 4), { family: 4, compact: false, noPeerId: false, trackerId: 'Wildkat', externalIp: null }));
  assert.ok(withId instanceof Map);
  assert.deepEqual(withId.get('peers'), [new Map<string, unknown>([['ip', b('127.0.0.1')], ['peer id', b('A'.repeat(20))], ['port', 6881]])]);
  assert.equal(withId.has('external ip'), false);
  const v6 = decode(encodeAnnounceReply(result([V4_PEER, V6_PEER], 6), { family: 6, compact: false, noPeerId: true, trackerId: 'Wildkat', externalIp: null }));
  assert.ok(v6 instanceof Map);
  assert.deepEqual(v6.get('peers'), [
    new Map<string, unknown>([['ip', b('::ffff:127.0.0.1')], ['port', 6881]]),
    new Map<string, unknown>([['ip', b('2001:db8::1')], ['port', 6882]]),
  ]);
});

test('scrape reply: files keyed by raw info_hash in byte order, with flags', () => {
  const h1 = '\xff'.repeat(20);
  const h2 = '\x00'.repeat(20);
  const out = encodeScrapeReply(
    [
      { infoHash: h1, complete: 1, incomplete: 2, downloaded: 3 },
      { infoHash: h2, complete: 0, incomplete: 0, downloaded: 0 },
    ],
    60,
  );
  assert.deepEqual(
    out,
    b(
      `d5:filesd20:${h2}d8:completei0e10:downloadedi0e10:incompletei0ee20:${h1}d8:completei1e10:downloadedi3e10:incompletei2eee` +
        '5:flagsd20:min_request_intervali60eee',
    ),
  );
});

test('failure reply', () => {
  assert.deepEqual(encodeFailure('invalid port'), b('d14:failure reason12:invalid porte'));
});
