/**
 * Fuzzing. Property-based tests (fast-check) for every decoder in
 * src/protocol/: arbitrary bytes never throw anything but ProtocolError, and
 * encode → decode round-trips. Then a live fuzz of the running daemon over
 * real UDP and HTTP. FUZZ_FULL=1 runs the full counts (100,000 datagrams,
 * 10,000 HTTP requests); by default a shortened run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decode, encode, type BValue } from '../src/protocol/bencode.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { parseAnnounceQuery, parseQuery, parseScrapeQuery, percentDecode, percentEncode } from '../src/protocol/http.js';
import { decodeCompactPeers, peerEntry, writeCompactPeers } from '../src/protocol/peers.js';
import {
  decodeRequest,
  decodeResponse,
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeErrorResponse,
  encodeScrapeRequest,
  encodeScrapeResponse,
} from '../src/protocol/udp.js';
import { httpGet, id20, randomPort, waitFor, prng } from './helpers.js';

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
        const n = writeCompactPeers(entries, 6, out, 0);
        const back = decodeCompactPeers(out.subarray(0, n), 6);
        assert.deepEqual(back.map((p) => [p.ip, p.port]), peers.map(([ip, port]) => [`::ffff:${ip.join('.')}`, port]));
        const result = { complete: 0, incomplete: 0, downloaded: 0, interval: 1, minInterval: 1, peers: entries };
        assert.equal(encodeAnnounceResponse(1, result, 4).length, 20 + 6 * entries.length);
      }),
      { numRuns: RUNS },
    );
  });
});

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}


const BIN = fileURLToPath(new URL('../bin/wildkat-tracker', import.meta.url));
const DATAGRAMS = FULL ? 100_000 : 20_000;
const HTTP_REQUESTS = FULL ? 10_000 : 2_000;
/** RSS may grow this much over the whole fuzz run (the heap settles; garbage is not a leak). */
const RSS_BOUND_KB = 64 * 1024;

test(`live fuzz: ${DATAGRAMS} UDP datagrams and ${HTTP_REQUESTS} malformed HTTP requests; the daemon survives`, { timeout: 300_000 }, async () => {
  const port = randomPort();
  const child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  try {
    await waitFor(async () => (await httpGet(port, '/scrape').catch(() => null)) !== null, 10_000, 'the daemon');
    const rssBefore = rssKb(child.pid!);
    const random = prng(0xf00d);
    const rb = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

    // UDP: random bytes, and valid packets mutated (bit flips, truncation, extension).
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const connectReply = new Promise<Buffer>((resolve) => udp.once('message', resolve));
    udp.send(encodeConnectRequest(7), port, '127.0.0.1');
    const cid = (await connectReply).subarray(8, 16);
    udp.on('message', () => undefined);
    const seeds = [
      encodeConnectRequest(1),
      encodeAnnounceRequest({ connectionId: cid, transactionId: 2, key: 3, urlData: '/announce?passkey=x', announce: { infoHash: id20('f'), peerId: id20('p'), port: 1, uploaded: 0, downloaded: 0, left: 5, event: 'started', numwant: 20 } }),
      encodeScrapeRequest(cid, 3, [id20('a'), id20('b')]),
    ];
    for (let i = 0; i < DATAGRAMS; i++) {
      let packet: Buffer;
      const kind = i % 4;
      if (kind === 0) packet = rb(Math.floor(random() * 200));
      else {
        packet = Buffer.from(seeds[Math.floor(random() * seeds.length)]!);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips && packet.length > 0; f++) packet[Math.floor(random() * packet.length)]! ^= 1 << Math.floor(random() * 8);
        if (kind === 2) packet = packet.subarray(0, Math.floor(random() * packet.length));
        if (kind === 3) packet = Buffer.concat([packet, rb(Math.floor(random() * 64))]);
      }
      udp.send(packet, port, '127.0.0.1');
      if (i % 200 === 199) await new Promise((r) => setImmediate(r)); // let the socket drain
    }
    udp.close();

    // HTTP: bad percent-encoding, huge headers, truncated request lines, binary garbage, pipelined junk.
    const junk = (i: number): string => {
      switch (i % 6) {
        case 0:
          return `GET /announce?info_hash=%${rb(2).toString('hex')}%zz%&peer_id=%%%${rb(3).toString('latin1')}&port=-1 HTTP/1.1\r\nHost: x\r\n\r\n`;
        case 1:
          return `GET /announce HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000 + Math.floor(random() * 5000))}\r\n\r\n`;
        case 2:
          return `GET /announce?info_hash=${'%41'.repeat(Math.floor(random() * 10))}`; // truncated request line
        case 3:
          return rb(1 + Math.floor(random() * 300)).toString('latin1');
        case 4:
          return `GET /scrape HTTP/1.1\r\nHost: x\r\n\r\nGET /announce?port=abc HTTP/1.1\r\n\r\n${rb(40).toString('latin1')}\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nxx`;
        default:
          return `GET /${rb(20).toString('hex')}?${'&'.repeat(Math.floor(random() * 50))} HTTP/1.0\r\n\r\n`;
      }
    };
    const sendJunk = (payload: string): Promise<void> =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.end(payload, 'latin1'));
        s.on('data', () => undefined);
        s.setTimeout(5000, () => s.destroy());
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      });
    for (let i = 0; i < HTTP_REQUESTS; i += 50) await Promise.all(Array.from({ length: Math.min(50, HTTP_REQUESTS - i) }, (_, j) => sendJunk(junk(i + j))));

    // Alive, answering, no internal error logged, memory bounded.
    const ok = await httpGet(port, `/announce?info_hash=${percentEncode(id20('after'))}&peer_id=${percentEncode(id20('after'))}&port=1&left=1`);
    assert.equal(ok.status, 200);
    assert.ok(decode(ok.body) instanceof Map);
    assert.equal(child.exitCode, null, 'still running');
    const rssAfter = rssKb(child.pid!);
    const errors = log.split('\n').filter((l) => l.includes('"level":50') || l.includes('"level":60') || /Uncaught|TypeError|RangeError/.test(l));
    assert.deepEqual(errors, []);
    console.log(`# live fuzz: ${DATAGRAMS} datagrams, ${HTTP_REQUESTS} HTTP requests; RSS ${Math.round(rssBefore / 1024)} MiB → ${Math.round(rssAfter / 1024)} MiB`);
    assert.ok(rssAfter - rssBefore < RSS_BOUND_KB, `RSS grew ${rssAfter - rssBefore} kB`);
  } finally {
    child.kill('SIGKILL');
  }
});
