/** TLS connections that never finish (or fail) their handshake are closed, logged once, counted. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { percentEncode } from '../../src/protocol/http.js';
import { SocketCloser } from '../../src/frontend/socket-closer.js';
import { httpsGet, id20, makeCert, startTestTracker, type TestCert } from '../helpers.js';

let dir: string;
let cert: TestCert;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wildkat-tls-stall-'));
  cert = makeCert(dir, 'stall');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A raw TCP connection; resolves `closed` when the server closes it. */
function open(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      const closed = new Promise<string>((done) => socket.on('close', () => done(data)));
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms).unref())]);
}

test('stalled and garbage TLS handshakes are closed by the server, logged once each, and counted', async () => {
  const t = await startTestTracker(
    { httpPort: null, httpsPort: 0, webHttpsPort: 0, cert: cert.certPath, key: cert.keyPath },
    { http: { handshakeTimeoutMs: 300 } },
  );
  const sockets: Socket[] = [];
  try {
    const https = t.tracker.port('https');
    const webHttps = t.tracker.port('web-https');
    // Silent connections (scanners, attackers): they must not outlive the handshake timeout.
    const silent = await Promise.all([...Array.from({ length: 8 }, () => open(https)), ...Array.from({ length: 4 }, () => open(webHttps))]);
    // Plain HTTP to the TLS port: the handshake fails at once.
    const garbage = await open(https);
    garbage.socket.write('GET /announce HTTP/1.1\r\nHost: x\r\n\r\n');
    sockets.push(...silent.map((s) => s.socket), garbage.socket);
    const replies = await within(Promise.all([...silent.map((s) => s.closed), garbage.closed]), 5000, 'the server closing every stalled handshake');
    // Nothing is written to a socket without a finished handshake (no plain-text 400).
    assert.ok(replies.every((r) => !r.includes('HTTP/1.1')), 'no plain HTTP reply on a TLS port');
    const messages = t.logs.lines.map((l) => l.msg);
    assert.equal(messages.filter((m) => m === 'TLS handshake failed').length, 13, 'each failure logged once');
    assert.equal(messages.filter((m) => m === 'malformed http request').length, 0, 'not logged twice');
    assert.deepEqual(t.tracker.stats.connectionFigures(), { tls_handshake_failures: 13, accept_errors: 0 });
    // And the listener still serves a real client.
    const ok = await httpsGet(https, `/announce?info_hash=${percentEncode(id20('tls'))}&peer_id=${percentEncode(id20('p'))}&port=1&left=1`, cert.pem);
    assert.equal(ok.status, 200);
  } finally {
    for (const s of sockets) s.destroy();
    await t.tracker.close();
  }
});

test('a client reset is not logged as a malformed request', async () => {
  const t = await startTestTracker();
  try {
    const { socket, closed } = await open(t.httpPort);
    socket.write('GET /announce?info_hash=');
    await new Promise((r) => setTimeout(r, 50));
    socket.resetAndDestroy();
    await closed;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.logs.lines.filter((l) => l.msg === 'malformed http request').length, 0);
  } finally {
    await t.tracker.close();
  }
});

test('timed-out sockets are closed a batch per event-loop turn, all of them in the end', async () => {
  const closer = new SocketCloser(10);
  const { PassThrough } = await import('node:stream');
  const streams = Array.from({ length: 35 }, () => new PassThrough());
  for (const [i, s] of streams.entries()) {
    if (i % 2 === 0) closer.destroy(s);
    else closer.end(s, 'HTTP/1.1 408 Request Timeout\r\n\r\n');
  }
  assert.equal(closer.pending, 35);
  const closedAfterTurns: number[] = [];
  for (let turn = 0; turn < 5; turn++) {
    await new Promise((r) => setImmediate(r));
    closedAfterTurns.push(streams.filter((s) => s.destroyed || s.writableEnded).length);
  }
  assert.deepEqual(closedAfterTurns, [10, 20, 30, 35, 35]);
  assert.equal(closer.pending, 0);
  assert.equal(streams[1]!.read()?.toString(), 'HTTP/1.1 408 Request Timeout\r\n\r\n', 'the status line is written before the end');
});
