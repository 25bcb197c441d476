/** SIGTERM under load: requests in flight are answered, then the daemon exits 0 within 5 s. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { percentEncode } from '../../src/protocol/http.js';
import { httpGet, id20, freePort, waitFor } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../bin/wildkat-tracker', import.meta.url));

test('SIGTERM during load answers in-flight HTTP requests and exits 0 within 5 s', async () => {
  const port = await freePort('127.0.0.1');
  const child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--http-port', String(port), '--udp-port', '0', '--web-http-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  try {
    await waitFor(async () => (await httpGet(port, '/scrape').catch(() => null)) !== null, 10_000, 'the daemon');
    const outcome = { ok: 0, refused: 0, broken: [] as string[] };
    let stop = false;
    const loop = async (w: number): Promise<void> => {
      for (let i = 0; !stop && i < 100_000; i++) {
        try {
          // A new connection per request: once the daemon stops listening, new ones are refused, none is cut.
          const r = await httpGet(port, `/announce?info_hash=${percentEncode(id20(`load${i % 50}`))}&peer_id=${percentEncode(id20(`w${w}-${i}`))}&port=${1000 + w}&left=1`);
          if (r.status === 200) outcome.ok++;
          else outcome.broken.push(`HTTP ${r.status}`);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // Refused once the daemon stops listening; reset if the connection was still in the
          // kernel's accept queue, never read by the daemon (no server can answer those).
          if (code === 'ECONNREFUSED' || code === 'ECONNRESET') {
            outcome.refused++;
            return;
          }
          outcome.broken.push(code ?? String(err));
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => loop(w));
    await new Promise((r) => setTimeout(r, 1000));
    // And requests provably in flight: half sent before SIGTERM, finished after it.
    const halfSent = await Promise.all(
      Array.from({ length: 10 }, () =>
        new Promise<Socket>((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            s.write(`GET /announce?info_hash=${percentEncode(id20('half'))}&peer_id=`);
            resolve(s);
          });
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    const halfReplies = halfSent.map(
      (s, i) =>
        new Promise<string>((resolve) => {
          let data = '';
          s.on('data', (c: Buffer) => (data += c.toString('latin1')));
          s.on('close', () => resolve(data));
          s.on('error', () => resolve(data));
          setTimeout(() => s.end(`${percentEncode(id20(`half${i}`))}&port=${2000 + i}&left=1 HTTP/1.1\r\nHost: x\r\n\r\n`), 200);
        }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const sent = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const tookMs = Date.now() - sent;
    stop = true;
    await Promise.all(workers);
    const answered = await Promise.all(halfReplies);
    assert.ok(answered.every((r) => /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close[\s\S]*d8:complete/.test(r)), 'every half-sent request was answered, and its connection closed');
    assert.match(log, /"cutRequests":0,"msg":"stopped"/);
    assert.equal(code, 0);
    assert.ok(tookMs < 5000, `exited after ${tookMs} ms`);
    assert.ok(outcome.ok > 100, `answered ${outcome.ok} under load`);
    assert.deepEqual(outcome.broken, [], 'no request was cut or failed');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
