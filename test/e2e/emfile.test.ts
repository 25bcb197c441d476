/** Out of file descriptors: logged (rate-limited), counted, and the tracker keeps serving once descriptors free up. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { httpGet, freePort, waitFor } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../bin/wildkat-tracker', import.meta.url));

test('EMFILE on accept is logged and counted, and service resumes', async () => {
  const port = await freePort('127.0.0.1');
  const web = port + 1;
  // 64 descriptors: Node and the listeners take about 25 of them.
  const child = spawn('sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${BIN}" --host 127.0.0.1 --http-port ${port} --udp-port 0 --web-http-port ${web}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  const sockets: Socket[] = [];
  try {
    await waitFor(async () => (await httpGet(port, '/scrape').catch(() => null)) !== null, 10_000, 'the daemon');
    for (let i = 0; i < 100; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      sockets.push(s);
    }
    await waitFor(() => /out of file descriptors: new connections are being dropped/.test(log), 5000, 'the EMFILE log line');
    for (const s of sockets) s.destroy();
    await waitFor(async () => (await httpGet(port, '/scrape').then((r) => r.status).catch(() => 0)) === 200, 10_000, 'service after descriptors free up');
    const stats = JSON.parse((await httpGet(web, '/stats.json')).body.toString()) as { connections: { accept_errors: number } };
    assert.ok(stats.connections.accept_errors > 0, `accept_errors ${stats.connections.accept_errors}`);
    assert.ok((log.match(/out of file descriptors/g) ?? []).length <= 21, 'rate-limited');
    assert.equal(child.exitCode, null, 'still running');
  } finally {
    for (const s of sockets) s.destroy();
    child.kill('SIGKILL');
  }
});
