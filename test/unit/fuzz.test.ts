/**
 * Fuzzing. Property-based tests (fast-check) for every decoder in
 * src/protocol/: arbitrary bytes never throw anything but ProtocolError, and
 * encode → decode round-trips (the live fuzz of the daemon is in
 * test/e2e/live-fuzz.test.ts). FUZZ_FULL=1 runs more cases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decode, encode, type BValue } from '../../src/protocol/bencode.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { parseAnnounceQuery, parseQuery, parseScrapeQuery, percentDecode, percentEncode } from '../../src/protocol/http.js';
import { decodeCompactPeers, peerEntry, peerSetOf, writePeerSet } from '../../src/protocol/peers.js';
import {
  decodeRequest,
  decodeResponse,
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeErrorResponse,
  encodeScrapeRequest,
  encodeScrapeResponse,
} from '../../src/protocol/udp.js';
import { decodeWsMessage, encodeOffer } from '../../src/protocol/websocket.js';

const FULL = process.env['FUZZ_FULL'] === '1';
const RUNS = FULL ? 5000 : 500;

/** Runs `f`; anything thrown must be a ProtocolError. */
function onlyProtocolErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const raw20 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((a) => Buffer.from(a).toString('latin1'));

const bvalue: fc.Arbitrary<BValue> = fc.letrec<{ value: BValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
    bytes,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')), tie('value')), { maxLength: 5 }).map((entries) => new Map(entries)),
  ),
})).value;

describe('protocol decoders under property tests', () => {
  test('bencode: arbitrary bytes → value or ProtocolError; encode → decode round-trips', () => {
    fc.assert(fc.property(bytes, (b) => onlyProtocolErrors(() => decode(b))), { numRuns: RUNS * 4 });
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => onlyProtocolErrors(() => decode(Buffer.from(s, 'latin1')))), { numRuns: RUNS });
    fc.assert(
      fc.property(bvalue, (v) => {
        assert.deepEqual(decode(encode(v as Parameters<typeof encode>[0])), v);
      }),
      { numRuns: RUNS },
    );
  });

  test('HTTP query parsing: any query string → request or ProtocolError; raw bytes survive percent-encoding', () => {
    const query = fc.string({ maxLength: 300, unit: fc.constantFrom(...'%0123456789abcdefXYZ&=+_info_hash peer_id port left event numwant compact'.split('')) });
    fc.assert(
      fc.property(query, (q) => {
        onlyProtocolErrors(() => parseAnnounceQuery(q));
        onlyProtocolErrors(() => parseScrapeQuery(q));
        parseQuery(q);
      }),
      { numRuns: RUNS * 2 },
    );
    fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (s) => onlyProtocolErrors(() => parseAnnounceQuery(s))), { numRuns: RUNS });
    fc.assert(fc.property(bytes, (b) => percentDecode(percentEncode(b)) === b.toString('latin1')), { numRuns: RUNS });
    fc.assert(
      fc.property(raw20, raw20, fc.integer({ min: 1, max: 65535 }), fc.nat(), (h, p, port, left) => {
        const req = parseAnnounceQuery(`info_hash=${percentEncode(h)}&peer_id=${percentEncode(p)}&port=${port}&left=${left}`);
        return req.infoHash === h && req.peerId === p && req.port === port && req.left === left;
      }),
      { numRuns: RUNS },
    );
  });

  test('BEP 15: arbitrary datagrams → request/response or ProtocolError; packets round-trip', () => {
    fc.assert(fc.property(bytes, (b) => onlyProtocolErrors(() => decodeRequest(b))), { numRuns: RUNS * 4 });
    fc.assert(fc.property(bytes, (b) => onlyProtocolErrors(() => decodeResponse(b))), { numRuns: RUNS * 4 });
    const announce = fc.record({
      infoHash: raw20,
      peerId: raw20,
      port: fc.integer({ min: 1, max: 65535 }),
      uploaded: fc.maxSafeNat(),
      downloaded: fc.maxSafeNat(),
      left: fc.maxSafeNat(),
      event: fc.constantFrom('none' as const, 'started' as const, 'completed' as const, 'stopped' as const),
      numwant: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.nat(), announce, fc.nat(), fc.string({ maxLength: 600, unit: 'binary-ascii' }), (cid, tx, a, key, urlData) => {
        const tx32 = tx >>> 0;
        const decoded = decodeRequest(encodeAnnounceRequest({ connectionId: cid, transactionId: tx32, announce: a, key: key >>> 0, urlData }));
        assert.ok(decoded.action === 'announce');
        assert.deepEqual(decoded.announce, { ...a }); // fast-check records have no prototype
        assert.equal(decoded.urlData, urlData);
        assert.equal(decoded.transactionId, tx32);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.nat(), fc.array(raw20, { minLength: 1, maxLength: 74 }), (cid, tx, hashes) => {
        const decoded = decodeRequest(encodeScrapeRequest(cid, tx, hashes));
        assert.ok(decoded.action === 'scrape');
        assert.deepEqual(decoded.infoHashes, hashes);
      }),
      { numRuns: RUNS },
    );
    fc.assert(fc.property(fc.nat(), (tx) => decodeRequest(encodeConnectRequest(tx)).transactionId === tx), { numRuns: RUNS });
    const counts = fc.record({ complete: fc.nat(), incomplete: fc.nat(), downloaded: fc.nat() });
    fc.assert(
      fc.property(fc.nat(), fc.array(counts, { maxLength: 74 }), (tx, files) => {
        assert.deepEqual(decodeResponse(encodeScrapeResponse(tx, files)), { action: 'scrape', transactionId: tx, files: files.map((f) => ({ ...f })) });
      }),
      { numRuns: RUNS },
    );
    fc.assert(fc.property(fc.nat(), fc.string({ maxLength: 100 }), (tx, m) => {
      const r = decodeResponse(encodeErrorResponse(tx, m));
      return r.action === 'error' && r.message === Buffer.from(m, 'utf8').toString('utf8');
    }), { numRuns: RUNS });
  });

  test('compact peers: arbitrary bytes decode without throwing; encode → decode round-trips', () => {
    fc.assert(fc.property(bytes, (b) => {
      decodeCompactPeers(b, 4);
      decodeCompactPeers(b, 6);
    }), { numRuns: RUNS });
    const v4peer = fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 65535 }));
    fc.assert(
      fc.property(fc.array(v4peer, { maxLength: 50 }), (peers) => {
        const entries = peers.map(([ip, port]) => peerEntry('\0'.repeat(20), Buffer.from([...ip, port >> 8, port & 255]).toString('latin1')));
        const out = Buffer.alloc(entries.length * 18);
        const n = writePeerSet(peerSetOf(entries, 6), out, 0);
        const back = decodeCompactPeers(out.subarray(0, n), 6);
        assert.deepEqual(back.map((p) => [p.ip, p.port]), peers.map(([ip, port]) => [`::ffff:${ip.join('.')}`, port]));
        const result = { complete: 0, incomplete: 0, downloaded: 0, interval: 1, minInterval: 1, peers: peerSetOf(entries, 4) };
        assert.equal(encodeAnnounceResponse(1, result, 4).length, 20 + 6 * entries.length);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('WebSocket messages (protocol/websocket.ts)', () => {
  const latin20 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 20, maxLength: 20 });
  const anyJson = fc.jsonValue({ maxDepth: 4 });
  const sdp = fc.record({ type: fc.constantFrom('offer', 'answer'), sdp: fc.string({ maxLength: 200 }) });

  test('any text, any JSON, and near-valid announces only ever throw ProtocolError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => onlyProtocolErrors(() => decodeWsMessage(text, 10))), { numRuns: RUNS });
    fc.assert(fc.property(anyJson, (v) => onlyProtocolErrors(() => decodeWsMessage(JSON.stringify(v), 10))), { numRuns: RUNS });
    const nearly = fc.record(
      {
        action: fc.oneof(fc.constantFrom('announce', 'scrape'), anyJson),
        info_hash: fc.oneof(latin20, anyJson, fc.array(fc.oneof(latin20, anyJson), { maxLength: 4 })),
        peer_id: fc.oneof(latin20, anyJson),
        to_peer_id: fc.oneof(latin20, anyJson),
        offer_id: fc.oneof(latin20, anyJson),
        answer: fc.oneof(sdp, anyJson),
        event: fc.oneof(fc.constantFrom('started', 'completed', 'stopped', 'update'), anyJson),
        left: anyJson,
        offers: fc.oneof(fc.array(fc.record({ offer: fc.oneof(sdp, anyJson), offer_id: fc.oneof(latin20, anyJson) }), { maxLength: 12 }), anyJson),
      },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(nearly, (m) => onlyProtocolErrors(() => decodeWsMessage(JSON.stringify(m), 10))), { numRuns: RUNS });
  });

  test('a decoded announce with offers, encoded as the tracker passes it on, keeps ids and SDP byte for byte', () => {
    fc.assert(
      fc.property(latin20, latin20, latin20, sdp, (hash, peer, offerId, offer) => {
        const req = decodeWsMessage(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: peer, left: 5, offers: [{ offer, offer_id: offerId }] }), 10);
        assert.ok(req.action === 'announce');
        const relayed = JSON.parse(encodeOffer(req.infoHash, req.peerId, req.offers[0]!)) as Record<string, unknown>;
        assert.deepEqual(relayed, { action: 'announce', info_hash: hash, peer_id: peer, offer: { type: offer.type, sdp: offer.sdp }, offer_id: offerId });
      }),
      { numRuns: RUNS },
    );
  });
});
