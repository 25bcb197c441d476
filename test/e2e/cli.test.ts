/** The wildkat-tracker binary as an operator runs it (needs `npm run build`, which `npm test` does). */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { decode } from '../../src/protocol/bencode.js';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentEncode } from '../../src/protocol/http.js';
import { ListenError } from '../../src/frontend/listen.js';
import { spawnTracker } from '../daemon-process.js';
import { asBytes, asDict, httpGet, httpsGet, id20, makeCert, servedFingerprint, waitFor, WAIT_MS, freePort, hasCommand } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../bin/wildkat-tracker', import.meta.url));

function run(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stderr: r.stderr };
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
    [['--http-port', '7000', '--web-http-port', '7000'], /^wildkat-tracker: --web-http-port: port 7000 is also --http-port: each TCP listener needs a port of its own/],
    [['--log-level', 'loud'], /^wildkat-tracker: option '--log-level <level>' argument 'loud' is invalid\. Allowed choices are fatal, error, warn, info, debug\./],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('--cert and --key without an HTTPS port: a warning that they are not used', async () => {
  const port = await freePort('127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'wk-certonly-'));
  const cert = makeCert(dir, 'only');
  const daemon = spawnTracker(['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port), '--web-http-port', '0', '--cert', cert.certPath, '--key', cert.keyPath]);
  try {
    const line = await daemon.waitForLine('--cert/--key given without --https-port or --web-https-port: no HTTPS listener, the certificate is not used');
    assert.equal(line['level'], 40);
    await daemon.waitForLine('listening');
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a port below 1024 refused to a normal user: the message gives the flag and a port to use instead', () => {
  const err = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
  assert.equal(
    new ListenError('--web-http-port', '0.0.0.0', 80, err).message,
    '--web-http-port: cannot listen on 0.0.0.0:80 (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE (the systemd unit grants it); as a normal user run with --web-http-port 8080, or --web-http-port 0 to disable it',
  );
});

// The first run an operator makes as a normal user: the stats page's default
// port 80. As root, the test drops CAP_NET_BIND_SERVICE for the child, which
// is then refused exactly as a normal user is.
const lowPortsClosed = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) > 80;
const asRoot = process.getuid?.() === 0;
test(
  'a first bare run as a normal user: refused on port 80 with the flag to use, exit 1',
  { skip: !lowPortsClosed ? 'this host lets anyone bind port 80' : asRoot && !hasCommand('setpriv') ? 'setpriv (util-linux) is not installed' : false },
  async () => {
    const port = await freePort('127.0.0.1');
    const args = [BIN, '--host', '127.0.0.1', '--http-port', String(port), '--udp-port', String(port)];
    const r = asRoot
      ? spawnSync('setpriv', ['--bounding-set=-net_bind_service', '--inh-caps=-net_bind_service', process.execPath, ...args], { encoding: 'utf8', timeout: 10_000 })
      : spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(
      r.stderr,
      'wildkat-tracker: --web-http-port: cannot listen on 127.0.0.1:80 (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE (the systemd unit grants it); as a normal user run with --web-http-port 8080, or --web-http-port 0 to disable it\n',
    );
  },
);

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
    const port = await freePort('127.0.0.1');
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

/** Starts the binary and waits until it has logged `listeners` listening lines. */
async function startCli(args: string[], listeners: number): Promise<{ child: ReturnType<typeof spawn>; logs: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor(() => (out.match(/"msg":"listening"/g) ?? []).length >= listeners || child.exitCode !== null, WAIT_MS * 3, 'listening lines');
  assert.equal(child.exitCode, null, `the tracker exited: ${out}`);
  return { child, logs: () => out };
}

test('the seed\'s "HTTPS + UDP + IPv6" command line (test certificate, high ports) starts and serves; SIGHUP swaps the certificate and keeps the swarm', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wildkat-cli-'));
  const a = makeCert(dir, 'a');
  const b = makeCert(dir, 'b');
  const cert = join(dir, 'fullchain.cer');
  const key = join(dir, 'tracker.key');
  copyFileSync(a.certPath, cert);
  copyFileSync(a.keyPath, key);
  const taken = new Set<number>();
  const [httpPort, httpsPort, udpPort, webHttpsPort, webHttpPort] = [await freePort('127.0.0.1', taken), await freePort('127.0.0.1', taken), await freePort('127.0.0.1', taken), await freePort('127.0.0.1', taken), await freePort('127.0.0.1', taken)];
  const { child, logs } = await startCli(
    [
      '--http-port', String(httpPort),
      '--https-port', String(httpsPort),
      '--udp-port', String(udpPort),
      '--web-http-port', String(webHttpPort),
      '--web-https-port', String(webHttpsPort),
      '--web-redirect-http',
      '--cert', cert,
      '--key', key,
      '--ipv6',
      '--redirect-http',
      '--domain', `localhost:${httpsPort}`,
      '--tracker-id', 'MyTracker',
    ],
    10, // five listeners, IPv4 and IPv6
  );
  try {
    const hash = id20('seed-cli');
    const pathFor = (peer: string): string => `/announce?info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id20(peer))}&port=6881&left=1`;
    const path = pathFor('cli');
    const redirect = await httpGet(httpPort, path);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers['location'], `https://localhost:${httpsPort}${path}`);
    const announce = asDict(decode((await httpsGet(httpsPort, path, a.pem)).body));
    assert.equal(announce.get('tracker id')?.toString(), 'MyTracker');
    const v6 = asDict(decode((await httpsGet(httpsPort, pathFor('six'), a.pem, '::1')).body));
    assert.equal(v6.get('incomplete'), 2, 'the IPv6 listener shares the swarm');
    assert.equal(asBytes(v6.get('peers6')).length, 18, 'the IPv4 peer, ::ffff:-mapped');
    assert.equal((await httpGet(webHttpPort, '/')).status, 301);
    assert.equal((await httpsGet(webHttpsPort, '/stats.json', a.pem)).status, 200);
    assert.equal((await httpGet(webHttpPort, '/', {}, '::1')).status, 301, 'stats page on IPv6 too');
    assert.equal((await httpsGet(webHttpsPort, '/stats.json', a.pem, '::1')).status, 200);

    assert.equal(await servedFingerprint(httpsPort), a.fingerprint);
    copyFileSync(b.certPath, cert);
    copyFileSync(b.keyPath, key);
    child.kill('SIGHUP');
    await waitFor(async () => (await servedFingerprint(httpsPort)) === b.fingerprint, WAIT_MS, 'the new certificate');
    assert.equal(await servedFingerprint(webHttpsPort), b.fingerprint, 'the stats page too');
    const scrape = asDict(decode((await httpsGet(httpsPort, `/scrape?info_hash=${percentEncode(hash)}`, b.pem)).body));
    assert.equal(asDict(asDict(scrape.get('files')).get(hash)).get('incomplete'), 2, 'the swarm survived the reload');
    assert.equal(child.exitCode, null, 'still running');
    assert.match(logs(), /certificate reloaded/);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--https-port without a readable certificate: one line naming the file, exit 2', () => {
  const r = run(['--https-port', '8443', '--cert', '/nonexistent/fullchain.cer', '--key', '/nonexistent/key', '--web-http-port', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^wildkat-tracker: --cert: cannot read \/nonexistent\/fullchain\.cer \(ENOENT\)\n$/);
  const noCert = run(['--https-port', '8443', '--web-http-port', '0']);
  assert.equal(noCert.status, 2);
  assert.match(noCert.stderr, /^wildkat-tracker: --cert: --https-port needs a certificate/);
  const noHttps = run(['--redirect-http', '--web-http-port', '0']);
  assert.equal(noHttps.status, 2);
  assert.match(noHttps.stderr, /^wildkat-tracker: --redirect-http: needs --https-port/);
});
