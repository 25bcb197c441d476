/**
 * Live fuzz of the running daemon over real UDP and HTTP (the decoders'
 * property tests are in test/unit/fuzz.test.ts). FUZZ_FULL=1 runs the full
 * counts (100,000 datagrams, 10,000 HTTP requests); by default a shortened run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { decode } from '../../src/protocol/bencode.js';
import { percentEncode } from '../../src/protocol/http.js';
import { encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from '../../src/protocol/udp.js';
import { httpGet, id20, freePort, waitFor, prng } from '../helpers.js';

const FULL = process.env['FUZZ_FULL'] === '1';

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}


const BIN = fileURLToPath(new URL('../../bin/wildkat-tracker', import.meta.url));
const DATAGRAMS = FULL ? 100_000 : 20_000;
const HTTP_REQUESTS = FULL ? 10_000 : 2_000;
/** RSS may grow this much over the whole fuzz run (the heap settles; garbage is not a leak). */
const RSS_BOUND_KB = 64 * 1024;

test(`live fuzz: ${DATAGRAMS} UDP datagrams and ${HTTP_REQUESTS} malformed HTTP requests; the daemon survives`, { timeout: 300_000 }, async () => {
  const port = await freePort('127.0.0.1');
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
