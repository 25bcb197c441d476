/** The wildkat-tracker binary as an operator runs it (needs `npm run build`, which `npm test` does). */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { decode } from '../src/protocol/bencode.js';
import { httpGet, WAIT_MS } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/wildkat-tracker', import.meta.url));

function run(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stderr: r.stderr };
}

/** A port that was free a moment ago (the CLI treats 0 as "disabled", not "any"). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test('invalid values: one line naming the flag, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--http-port', '70000'], /^wildkat-tracker: --http-port: must be a whole number from 0 to 65535, got 70000\n$/],
    [['--udp-port', '-1'], /^wildkat-tracker: --udp-port: /],
    [['--interval', '-5'], /^wildkat-tracker: --interval: must be a whole number from 1/],
    [['--interval', 'soon'], /^wildkat-tracker: option '--interval <seconds>' argument 'soon' is invalid/],
    [['--min-interval', '2000'], /^wildkat-tracker: --min-interval: must not exceed --interval \(1800\), got 2000\n$/],
    [['--host', 'example.com'], /^wildkat-tracker: --host: not an IP address/],
    [['--http-port', '0', '--udp-port', '0'], /no tracker would listen/],
    [['--no-such-flag'], /^wildkat-tracker: unknown option '--no-such-flag'/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('--help lists the seed flags and exits 0', () => {
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0);
  for (const flag of ['--http-port', '--udp-port', '--host', '--ipv6', '--tracker-id', '--interval', '--min-interval', '--peer-ttl', '--max-peers', '--max-scrape-hashes', '--full-scrape', '--verbose']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('a port in use: one line naming the flag, the address and the fix; exit 1', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = run(['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', '0', '--web-http-port', '0']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^wildkat-tracker: --http-port: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\).*--http-port 0 to disable`));
  } finally {
    blocker.close();
  }
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`logs each listener, serves, and exits 0 within a second of ${signal}`, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const deadline = Date.now() + WAIT_MS * 2;
      while ((out.match(/"msg":"listening"/g) ?? []).length < 2) {
        assert.ok(Date.now() < deadline, `no listening lines: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        lines.filter((l) => l['msg'] === 'listening').map((l) => [l['protocol'], l['address'], l['port']]),
        [
          ['http', '127.0.0.1', port],
          ['udp', '127.0.0.1', port],
        ],
      );
      const reply = await httpGet(port, '/scrape');
      assert.ok(decode(reply.body) instanceof Map);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const sent = Date.now();
      child.kill(signal);
      const code = await exited;
      assert.equal(code, 0);
      assert.ok(Date.now() - sent < 1000, `exited in ${Date.now() - sent} ms`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
}
