/**
 * bin/wildkat-tracker at a terminal (a real pseudo-terminal, made by
 * util-linux `script`): the start summary and readable log lines; and
 * --log-level with JSON logs when stdout is not a terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { BIN, spawnTracker } from '../daemon-process.js';
import { hasCommand, freePort, waitFor } from '../helpers.js';

const scriptSkip = !hasCommand('script') && process.env['CI'] === undefined ? 'util-linux script not installed' : false;

test('on a terminal: the start summary with announce URLs and the stats page, then readable log lines', { skip: scriptSkip, timeout: 30_000 }, async () => {
  const taken = new Set<number>();
  const port = await freePort('127.0.0.1', taken);
  const web = await freePort('127.0.0.1', taken);
  const command = [process.execPath, BIN, '--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', String(web)].join(' ');
  // `script -q -e -c CMD /dev/null`: CMD runs on a new pseudo-terminal; what it prints comes to our stdout.
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await waitFor(() => out.includes('Ctrl-C stops the tracker'), 15_000, `the summary; got: ${out}`);
    const text = out.replace(/\r/g, '');
    assert.match(text, /Wildkat tracker \S+ is running\./);
    assert.match(text, new RegExp(`^  udp://127\\.0\\.0\\.1:${port}/announce   \\(UDP, IPv4\\)$`, 'm'));
    assert.match(text, new RegExp(`^  http://127\\.0\\.0\\.1:${port}/announce   \\(HTTP, IPv4\\)$`, 'm'));
    assert.match(text, new RegExp(`^For browser \\(WebTorrent\\) peers:\n  ws://127\\.0\\.0\\.1:${port}/announce   \\(WebSocket, IPv4\\)$`, 'm'));
    assert.match(text, new RegExp(`^Stats page: http://127\\.0\\.0\\.1:${web}/`, 'm'));
    assert.match(text, /^Store: memory, in this process$/m);
    // The log itself: readable, not JSON.
    assert.match(text, new RegExp(`^\\d\\d:\\d\\d:\\d\\d INFO  listening protocol=udp address=127\\.0\\.0\\.1 port=${port}$`, 'm'));
    assert.doesNotMatch(text, /"level":/);
  } finally {
    child.kill('SIGTERM');
    // script passes the hangup on to the tracker; wait for both.
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', () => resolve());
      setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 10_000).unref();
    });
  }
});

test('--log-level warn: JSON lines (not a terminal), and none of the info lines', { timeout: 30_000 }, async () => {
  const port = await freePort('127.0.0.1');
  const daemon = spawnTracker(['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', '0', '--log-level', 'warn']);
  try {
    // Nothing at info: wait until it answers, then look at what it logged.
    const started = Date.now();
    await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/scrape`).catch(() => null);
        return r !== null && r.status === 200;
      },
      15_000,
      'the tracker answering',
    );
    assert.ok(Date.now() - started < 15_000);
    assert.equal(daemon.lines().filter((l) => l['level'] === 30).length, 0, `no info lines: ${JSON.stringify(daemon.lines())}`);
    // A warning still gets through, as JSON.
    await fetch(`http://127.0.0.1:${port}/announce?port=1`);
    await daemon.waitForLine('bad request: missing info_hash', 5000, (l) => l['level'] === 40);
  } finally {
    await daemon.stop();
  }
  const info = spawnTracker(['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', '0']);
  try {
    const line = await info.waitForLine('listening');
    assert.equal(line['level'], 30, 'info by default, as JSON');
  } finally {
    await info.stop();
  }
});
