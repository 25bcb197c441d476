/** wildkat-query as users run it, against the real tracker and against misbehaving ones. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { decodeRequest, encodeConnectResponse } from '../../src/protocol/udp.js';
import { qbittorrent } from '../../src/query/identity.js';
import { UdpTrackerClient } from '../../src/query/udp-client.js';
import { parseTrackerUrl } from '../../src/query/url.js';
import { fakeHttp, fakeUdp, ipv4OnlyTracker, wrongTransactionId } from '../fake-trackers.js';
import { makeCert, startTestTracker, startTestTrackerSamePort, type TestCert, type TestTracker } from '../helpers.js';
import { opentrackerSkip, startOpentracker, type Opentracker } from '../opentracker.js';

const BIN = fileURLToPath(new URL('../../bin/wildkat-query', import.meta.url));
const HASH = 'aabbccddeeff00112233445566778899aabbccdd';
const hasLoopback6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.address === '::1'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function query(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

async function queryJson(args: string[]): Promise<Record<string, unknown>> {
  const r = await query([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

interface CheckJson {
  checks: { check: string; status: string; detail: string }[];
  summary: Record<string, number>;
  notes: string[];
}

async function checkJson(args: string[]): Promise<{ run: Run; report: CheckJson; status: Map<string, string>; detail: Map<string, string> }> {
  const run = await query([...args, '--check', '-o', 'json']);
  const report = JSON.parse(run.stdout) as CheckJson;
  return {
    run,
    report,
    status: new Map(report.checks.map((c) => [c.check, c.status])),
    detail: new Map(report.checks.map((c) => [c.check, c.detail])),
  };
}

/** Seeds and leechers left on `hash`, by an HTTP scrape. */
async function swarmSize(http: string, hash: string): Promise<{ seeds: number; leechers: number }> {
  const s = await queryJson(['-t', http, '-s', '-H', hash]);
  const f = (s['files'] as { seeds: number; leechers: number }[])[0];
  return { seeds: f?.seeds ?? 0, leechers: f?.leechers ?? 0 };
}

/** A port on 127.0.0.1 that nothing listens on (bound by the OS for us, then let go). */
async function closedTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const ANNOUNCE_KEYS = [
  'tracker', 'interval', 'min_interval', 'seeds', 'leechers', 'downloaded', 'ipv4_peers', 'ipv4_bytes', 'ipv6_peers', 'ipv6_bytes',
  'peer_list', 'num_want_requested', 'total_peers_returned', 'response_time_ms', 'warning_message', 'failure_reason', 'external_ip', 'tracker_id',
  'ok', 'error', 'reached_over', 'ipv6_native_peers', 'ipv6_mapped_peers', 'ipv6_compliance_warning', 'numwant_honoured', 'redirects', 'attempts',
];

describe('wildkat-query against wildkat-tracker', () => {
  let t: TestTracker;
  let http: string;
  let udp: string;
  before(async () => {
    t = await startTestTrackerSamePort({ interval: 900 });
    http = `http://127.0.0.1:${t.httpPort}/announce`;
    udp = `udp://127.0.0.1:${t.udpPort}/announce`;
  });

  /** A fresh swarm with one seeder (port 5000) that has completed (and stays: --no-stop). */
  async function swarmWithSeeder(tag: string): Promise<string> {
    const hash = Buffer.from(tag.padEnd(20, '.')).toString('hex');
    const r = await query(['-t', http, '-H', hash, '-e', 'completed', '--port', '5000', '--no-stop']);
    assert.equal(r.code, 0, r.stdout);
    return hash;
  }
  after(() => t.tracker.close());

  test('HTTP announce: the JSON keys of the original tool, then ours', async () => {
    const hash = await swarmWithSeeder('json');
    const j = await queryJson(['-t', http, '-H', hash, '--port', '5001']);
    assert.deepEqual(Object.keys(j), ANNOUNCE_KEYS);
    assert.equal(j['tracker'], http);
    assert.equal(j['interval'], 900);
    assert.equal(j['min_interval'], 60);
    assert.equal(j['seeds'], 1);
    assert.equal(j['leechers'], 1);
    assert.equal(j['downloaded'], 1);
    assert.equal(j['ipv4_peers'], 1);
    assert.equal(j['ipv4_bytes'], 6);
    assert.deepEqual(j['peer_list'], [{ ip: '127.0.0.1', port: 5000, type: 'ipv4', peer_id: null }]);
    assert.equal(j['num_want_requested'], 50);
    assert.equal(j['total_peers_returned'], 1);
    assert.equal(typeof j['response_time_ms'], 'number');
    assert.equal(j['external_ip'], '127.0.0.1');
    assert.equal(j['tracker_id'], 'Wildkat');
    assert.equal(j['failure_reason'], null);
    assert.equal(j['numwant_honoured'], true);
  });

  test('UDP announce and UDP scrape', async () => {
    const hash = await swarmWithSeeder('udp');
    const j = await queryJson(['-t', udp, '-H', hash, '--port', '5002', '-n', '1', '--no-stop']);
    assert.equal(j['interval'], 900);
    assert.equal(j['seeds'], 1);
    assert.equal(j['total_peers_returned'], 1);
    assert.equal(j['tracker_id'], null);
    const s = await queryJson(['-t', udp, '-s', '-H', hash, '-H', '00'.repeat(20)]);
    assert.deepEqual(s['files'], [
      { info_hash: hash, seeds: 1, leechers: 1, downloaded: 1 },
      { info_hash: '00'.repeat(20), seeds: 0, leechers: 0, downloaded: 0 },
    ]);
  });

  test('table output: response grade, interval, counts, numwant check, peers', async () => {
    const hash = await swarmWithSeeder('table');
    await query(['-t', http, '-H', hash, '--port', '5002', '--no-stop']);
    const r = await query(['-t', http, '-H', hash, '--port', '5001', '-p']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^http:\/\/127\.0\.0\.1:\d+\/announce\n/);
    assert.match(r.stdout, /Response\s+\d+ ms {2}\[[A-F] · [a-z ]+\] {2}over IPv4 \(127\.0\.0\.1\)/);
    assert.match(r.stdout, /Interval\s+900 s \(min 60 s\)/);
    assert.match(r.stdout, /Tracker ID\s+Wildkat/);
    assert.match(r.stdout, /External IP\s+127\.0\.0\.1/);
    assert.match(r.stdout, /Seeders\s+1\n\s+Leechers\s+2\n\s+Downloaded\s+1/);
    assert.match(r.stdout, /IPv4 peers\s+2 \(12 bytes\)/);
    assert.match(r.stdout, /numwant\s+50 requested, 2 returned: honoured/);
    assert.match(r.stdout, /IP\s+Port\s+Type\s+Peer ID/);
    assert.match(r.stdout, /127\.0\.0\.1\s+5000\s+ipv4/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when not on a terminal');
  });

  test('CSV: a header and a row, then the peers (with hostname under -l)', async () => {
    const hash = await swarmWithSeeder('csv');
    await query(['-t', http, '-H', hash, '--port', '5002', '--no-stop']);
    const r = await query(['-t', http, '-H', hash, '--port', '5001', '-o', 'csv', '-p', '-l']);
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'tracker,interval,min_interval,seeds,leechers,downloaded,ipv4_peers,ipv4_bytes,ipv6_peers,ipv6_bytes,num_want_requested,total_peers_returned,response_time_ms,warning_message,failure_reason,external_ip,tracker_id,error');
    assert.match(lines[1]!, new RegExp(`^${http.replace(/[.]/g, '\\.')},900,60,1,2,1,2,12,0,0,50,2,\\d+,,,127\\.0\\.0\\.1,Wildkat,$`));
    assert.equal(lines[2], '');
    assert.equal(lines[3], 'ip,port,type,peer_id,hostname');
    assert.equal(lines.length, 6);
    assert.match(lines[4]!, /^127\.0\.0\.1,(5000|5002),ipv4,,/);
  });

  test('scrape over HTTP, and full scrape refused (exit 1, failure reason shown)', async () => {
    const hash = await swarmWithSeeder('scrape');
    const s = await queryJson(['-t', http, '-s', '-H', hash]);
    assert.deepEqual(Object.keys(s), ['tracker', 'mode', 'files', 'min_request_interval', 'response_time_ms', 'failure_reason', 'ok', 'error', 'reached_over', 'redirects', 'attempts']);
    assert.deepEqual(s['files'], [{ info_hash: hash, seeds: 1, leechers: 0, downloaded: 1 }]);
    const csv = await query(['-t', http, '-s', '-H', hash, '-o', 'csv']);
    assert.equal(csv.stdout.split('\n')[0], 'tracker,info_hash,seeds,leechers,downloaded,response_time_ms,failure_reason,error');
    const full = await query(['-t', http, '--full-scrape']);
    assert.equal(full.code, 1);
    assert.match(full.stdout, /Failure\s+full scrape is disabled on this tracker/);
  });

  test('--check: every check passes on our tracker, over HTTP and over UDP', async () => {
    for (const url of [http, udp]) {
      const r = await query(['-t', url, '--check', '-o', 'json']);
      const report = JSON.parse(r.stdout) as { checks: { check: string; status: string; detail: string }[]; summary: Record<string, number> };
      const notPass = report.checks.filter((c) => c.status !== 'PASS');
      assert.deepEqual(notPass, [], url);
      assert.equal(r.code, 0);
      const names = report.checks.map((c) => c.check);
      for (const name of ['reachable over IPv4', 'interval', 'requester excluded', 'numwant honoured', 'compact peers']) assert.ok(names.includes(name), `${url}: ${name}`);
      assert.ok(names.some((n) => n.endsWith(' scrape')));
      if (url === http) assert.ok(names.includes('non-compact peers') && names.includes('external ip (BEP 24)'));
    }
    const table = await query(['-t', http, '--check']);
    assert.match(table.stdout, /PASS {2}numwant honoured/);
    assert.match(table.stdout, /\d+ passed, 0 warnings, 0 failed/);
  });

  test('a one-off announce sends event=stopped afterwards (no phantom peer); --no-stop leaves the peer', async () => {
    for (const url of [http, udp]) {
      const hash = Buffer.from(`stop-${url.slice(0, 4)}`.padEnd(20, '.')).toString('hex');
      const once = await query(['-t', url, '-H', hash, '--port', '5300']);
      assert.equal(once.code, 0, once.stdout);
      assert.match(once.stdout, /Leechers\s+1\n/, 'the announce was answered, the peer counted');
      assert.match(once.stdout, /Stop\s+event=stopped sent afterwards/);
      assert.deepEqual(await swarmSize(http, hash), { seeds: 0, leechers: 0 }, `${url}: no peer left behind`);
      const seeded = await query(['-t', url, '-H', hash, '--port', '5301', '-e', 'completed']);
      assert.equal(seeded.code, 0, seeded.stdout);
      assert.deepEqual(await swarmSize(http, hash), { seeds: 0, leechers: 0 }, `${url}: no seeder left behind either`);
      const kept = await query(['-t', url, '-H', hash, '--port', '5300', '--no-stop']);
      assert.equal(kept.code, 0, kept.stdout);
      assert.doesNotMatch(kept.stdout, /Stop/);
      assert.deepEqual(await swarmSize(http, hash), { seeds: 0, leechers: 1 }, `${url}: --no-stop keeps the peer`);
    }
  });

  test('--check -H announces on that info_hash and stops every peer it announced', async () => {
    const hash = Buffer.from('check-H'.padEnd(20, '.')).toString('hex');
    for (const url of [http, udp]) {
      const { run, report } = await checkJson(['-t', url, '-H', hash]);
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(report.checks.filter((c) => c.status !== 'PASS'), [], url);
      assert.ok(report.notes.includes(`announced on info_hash ${hash} (-H)`), report.notes.join('; '));
      assert.deepEqual(await swarmSize(http, hash), { seeds: 0, leechers: 0 }, `${url}: --check left no peer`);
    }
  });

  test('--check of an https:// tracker: the address shown, no UDP probe on the HTTPS port unless --udp, an untrusted certificate named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-qs-'));
    let tls: TestTracker | null = null;
    try {
      const cert = makeCert(dir, 'qs');
      tls = await startTestTracker({ httpsPort: 0, httpPort: null, udpPort: 0, cert: cert.certPath, key: cert.keyPath });
      const https = `https://127.0.0.1:${tls.tracker.port('https')}/announce`;
      const udpUrl = `udp://127.0.0.1:${tls.udpPort}/announce`;
      const ca = ['--ca-cert', cert.certPath];

      // The address is read when the reply starts: once the TLS socket has closed it is gone.
      for (const args of [ca, ['-k']]) {
        const plain = await query(['-t', https, ...args]);
        assert.equal(plain.code, 0, plain.stdout);
        assert.match(plain.stdout, /Response\s+\d+ ms {2}\[[A-F] · [a-z ]+\] {2}over IPv4 \(127\.0\.0\.1\)/);
      }

      const skipped = await checkJson(['-t', https, ...ca]);
      assert.match(skipped.detail.get('reachable over IPv4') ?? '', /^127\.0\.0\.1 answered in \d+ ms$/);
      assert.match(skipped.detail.get('https announce') ?? '', /^127\.0\.0\.1 answered in \d+ ms over IPv4$/);
      assert.equal(skipped.run.code, 0, skipped.run.stdout);
      assert.deepEqual(skipped.report.checks.filter((c) => c.status !== 'PASS'), []);
      assert.equal(skipped.status.get('udp announce'), undefined, 'no UDP probe on the HTTPS port');
      assert.ok(skipped.report.notes.some((n) => /^UDP not probed: .*--udp URL/.test(n)), skipped.report.notes.join('; '));
      const table = await query(['-t', https, '--check', ...ca]);
      assert.match(table.stdout, /note: UDP not probed/);

      const withUdp = await checkJson(['-t', https, ...ca, '--udp', udpUrl]);
      assert.equal(withUdp.run.code, 0, withUdp.run.stdout);
      assert.equal(withUdp.status.get('udp announce'), 'PASS');
      assert.match(withUdp.detail.get('udp announce') ?? '', /^answers at udp:\/\/127\.0\.0\.1:\d+\/announce \(127\.0\.0\.1, \d+ ms\)$/);
      assert.ok(withUdp.report.notes.includes(`UDP probed at ${udpUrl} (--udp)`));

      const untrusted = await checkJson(['-t', https]);
      assert.equal(untrusted.run.code, 1);
      assert.equal(untrusted.status.get('reachable over IPv4'), 'FAIL');
      assert.match(untrusted.detail.get('reachable over IPv4') ?? '', /^reachable, but TLS certificate not trusted \(.*self-signed.*\): trust its CA with --ca-cert FILE, or skip the check with -k$/);
      assert.doesNotMatch(untrusted.run.stdout, /published|unreachable/);
    } finally {
      await tls?.tracker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('batch: input order, one dead tracker does not stall it, exit 0 unless all failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-batch-'));
    const dead = await fakeUdp('127.0.0.1', () => null);
    try {
      const file = join(dir, 'trackers.txt');
      writeFileSync(file, `# trackers\n${udp}\nudp://127.0.0.1:${dead.port}/announce\n\n${http}  # ours\n`);
      const r = await query(['-b', '-f', file, '--timeout', '1', '-o', 'json', '-j', '3']);
      assert.equal(r.code, 0);
      assert.ok(r.ms < 8000, `took ${r.ms} ms`);
      const out = JSON.parse(r.stdout) as { results: Record<string, unknown>[]; summary: Record<string, unknown> };
      assert.deepEqual(out.results.map((x) => x['ok']), [true, false, true]);
      assert.equal(out.results[1]!['error'], 'no reply within 1000 ms');
      assert.equal(out.summary['succeeded'], 2);
      const table = await query(['-b', '-f', file, '--timeout', '1']);
      assert.match(table.stdout, /Summary: 2 of 3 answered/);
      assert.match(table.stdout, /Average \d+ ms · fastest \d+ ms · slowest \d+ ms/);
      assert.match(table.stdout, /Failures:\n\s+✗ udp:\/\/127\.0\.0\.1:\d+\/announce: no reply within 1000 ms/);
      writeFileSync(file, `udp://127.0.0.1:${dead.port}/announce\n`);
      const allDead = await query(['-b', '-f', file, '--timeout', '0.5', '-o', 'csv']);
      assert.equal(allDead.code, 1);
      assert.equal(allDead.stdout.trimEnd().split('\n').length, 2);
    } finally {
      await dead.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('on a terminal: colour and a batch progress line; never with --nocolor or NO_COLOR', async () => {
    // script(1) gives the command a pseudo-terminal.
    const onTty = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> =>
      new Promise((resolve, reject) => {
        const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
        execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 30_000, env: { ...process.env, NO_COLOR: '', ...env } }, (err, stdout) =>
          err !== null && typeof err.code !== 'number' ? reject(err) : resolve(stdout),
        );
      });
    assert.match(await onTty(['-t', http]), /\x1b\[32m\[A · excellent\]|\x1b\[1mhttp/);
    assert.doesNotMatch(await onTty(['-t', http, '--nocolor']), /\x1b\[/);
    assert.doesNotMatch(await onTty(['-t', http], { NO_COLOR: '1' }), /\x1b\[/);
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-tty-'));
    try {
      writeFileSync(join(dir, 'list'), `${http}\n${udp}\n`);
      const batch = await onTty(['-b', '-f', join(dir, 'list'), '--nocolor']);
      assert.match(batch, /\[2\/2\] queried/);
      assert.doesNotMatch(await onTty(['-b', '-f', join(dir, 'list'), '-o', 'json']), /queried/, 'no progress line with -o json');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the seed README\'s "Query a tracker" examples run against a local tracker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-q-'));
    let cert: TestCert;
    let tls: TestTracker | null = null;
    try {
      cert = makeCert(dir, 'q');
      tls = await startTestTracker({ httpsPort: 0, httpPort: null, udpPort: 0, cert: cert.certPath, key: cert.keyPath });
      const https = `https://127.0.0.1:${tls.tracker.port('https')}/announce`;
      const ca = ['--ca-cert', cert.certPath];
      const one = await query(['-t', `udp://127.0.0.1:${tls.udpPort}/announce`]);
      assert.equal(one.code, 0, one.stdout);
      const two = await query(['-t', https, '-H', HASH, '-p', ...ca]);
      assert.equal(two.code, 0, two.stdout);
      assert.match(two.stdout, /Tracker ID\s+Wildkat/);
      const three = await query(['-t', https, '-s', '-H', HASH, ...ca]);
      assert.equal(three.code, 0);
      // The announce of example two sent event=stopped afterwards: no leecher left.
      assert.match(three.stdout, new RegExp(`${HASH}\\s+0\\s+0\\s+0`));
      const four = await query(['-t', https, '--full-scrape', ...ca]);
      assert.equal(four.code, 1, 'full scrape is refused by default');
      const untrusted = await query(['-t', https]);
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stdout, /Error\s+.*(self-signed|certificate)/i);
      const insecure = await query(['-t', https, '-k']);
      assert.equal(insecure.code, 0);
    } finally {
      await tls?.tracker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('wildkat-query over IPv6', { skip: hasLoopback6 ? false : 'this machine has no ::1' }, () => {
  test('announce over [::1] (HTTP and UDP): peers6 counted native and mapped, and --check passes', async () => {
    const t = await startTestTrackerSamePort({ host: '::1' });
    try {
      const http = `http://[::1]:${t.httpPort}/announce`;
      const udp = `udp://[::1]:${t.udpPort}/announce`;
      await query(['-t', http, '-H', HASH, '--port', '7001', '--no-stop']);
      const j = await queryJson(['-t', udp, '-H', HASH, '--port', '7002']);
      assert.equal(j['reached_over'], 'ipv6');
      assert.equal(j['ipv6_peers'], 1);
      assert.equal(j['ipv6_bytes'], 18);
      assert.equal(j['ipv6_native_peers'], 1);
      assert.equal(j['ipv6_compliance_warning'], null);
      const check = await query(['-t', http, '--check', '-o', 'json']);
      const report = JSON.parse(check.stdout) as { checks: { check: string; status: string }[] };
      assert.deepEqual(report.checks.filter((c) => c.status !== 'PASS').map((c) => c.check), []);
      assert.ok(report.checks.some((c) => c.check === 'IPv6 peers (BEP 7)'));
    } finally {
      await t.tracker.close();
    }
  });

  test('a tracker that gives an IPv6 client IPv4-only peers and ignores numwant: warned and failed', async () => {
    const bad = await fakeHttp('::1', ipv4OnlyTracker());
    try {
      const url = `http://[::1]:${bad.port}/announce`;
      const j = await queryJson(['-t', url, '-n', '1']);
      assert.equal(j['ipv4_peers'], 10);
      assert.equal(j['numwant_honoured'], false);
      assert.match(String(j['ipv6_compliance_warning']), /IPv4-only peers/);
      const table = await query(['-t', url, '-n', '1']);
      assert.match(table.stdout, /numwant\s+1 requested, 10 returned: ignored/);
      assert.match(table.stdout, /IPv6\s+warning: reached over IPv6 but the tracker returned IPv4-only peers/);
      const check = await query(['-t', url, '--check', '-o', 'json', '--timeout', '2']);
      assert.equal(check.code, 1);
      const status = new Map((JSON.parse(check.stdout) as { checks: { check: string; status: string }[] }).checks.map((c) => [c.check, c.status]));
      assert.equal(status.get('numwant honoured'), 'FAIL');
      assert.equal(status.get('IPv6 peers (BEP 7)'), 'WARN');
      assert.equal(status.get('http scrape'), 'FAIL');
      assert.equal(status.get('external ip (BEP 24)'), 'WARN');
      // gzip replies were decompressed throughout.
      assert.ok(bad.requests.every((r) => /gzip/.test(String(r.headers['accept-encoding']))));
    } finally {
      await bad.close();
    }
  });
});

describe('wildkat-query against broken trackers', () => {
  test('UDP replies with the wrong transaction id are rejected', async () => {
    const bad = await fakeUdp('127.0.0.1', wrongTransactionId);
    try {
      const url = `udp://127.0.0.1:${bad.port}/announce`;
      const r = await query(['-t', url, '--timeout', '0.5', '-o', 'json']);
      assert.equal(r.code, 1);
      assert.match(String((JSON.parse(r.stdout) as Record<string, unknown>)['error']), /wrong transaction id/);
      const check = await query(['-t', url, '--check', '--timeout', '0.5', '-o', 'json']);
      assert.equal(check.code, 1);
      const reach = (JSON.parse(check.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks.find((c) => c.check === 'reachable over IPv4');
      assert.equal(reach?.status, 'FAIL');
      assert.match(reach?.detail ?? '', /wrong transaction id/);
    } finally {
      await bad.close();
    }
  });

  test('a tracker that never answers: timeout, exit 1, within the timeout', async () => {
    const silent = await fakeUdp('127.0.0.1', () => null);
    const hang = await fakeHttp('127.0.0.1', () => ({ hang: true }));
    try {
      const udpRun = await query(['-t', `udp://127.0.0.1:${silent.port}/announce`, '--timeout', '0.6']);
      assert.equal(udpRun.code, 1);
      assert.match(udpRun.stdout, /Error\s+no reply within 600 ms/);
      assert.ok(udpRun.ms < 5000);
      const httpRun = await query(['-t', `http://127.0.0.1:${hang.port}/announce`, '--timeout', '0.6', '-o', 'json']);
      assert.equal(httpRun.code, 1);
      assert.equal((JSON.parse(httpRun.stdout) as Record<string, unknown>)['error'], 'no reply within 600 ms');
    } finally {
      await silent.close();
      await hang.close();
    }
  });

  test('--retry N stops after N attempts; -r picks a qBittorrent identity', async () => {
    const failing = await fakeHttp('127.0.0.1', () => ({ status: 500, body: Buffer.from('boom') }));
    try {
      const r = await query(['-t', `http://127.0.0.1:${failing.port}/announce`, '-R', '3', '-r', '-o', 'json']);
      assert.equal(r.code, 1);
      assert.equal(failing.requests.length, 3);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(j['attempts'], 3);
      assert.equal(j['error'], 'HTTP 500 Internal Server Error');
      for (const req of failing.requests) {
        assert.match(String(req.headers['user-agent']), /^qBittorrent\/\d+\.\d+\.\d+$/);
        assert.match(req.url ?? '', /peer_id=-qB[0-9A-Z]{3}0-/);
      }
    } finally {
      await failing.close();
    }
  });

  test('BEP 15 retransmission (15·2^n schedule, scaled down) and BEP 41 URL data', async () => {
    // Drops the first two connects, then behaves.
    const flaky = await fakeUdp('127.0.0.1', (packet, i) => {
      const req = decodeRequest(packet);
      if (req.action === 'connect') return i < 2 ? null : encodeConnectResponse(req.transactionId, Buffer.alloc(8, 1));
      const reply = Buffer.alloc(20);
      reply.writeUInt32BE(1, 0);
      reply.writeUInt32BE(req.transactionId, 4);
      reply.writeUInt32BE(1800, 8);
      return reply;
    });
    try {
      const tracker = parseTrackerUrl(`udp://127.0.0.1:${flaky.port}/announce?passkey=s3cret`);
      const client = new UdpTrackerClient(tracker, { identity: qbittorrent('5.1.4'), timeoutMs: 5000, udpRetransmitBaseMs: 100 });
      const started = Date.now();
      const reply = await client.announce({ infoHash: 'h'.repeat(20), event: 'started', numwant: 5, port: 6881, left: 1, compact: true, noPeerId: true, key: 1 });
      client.close();
      assert.equal(reply.interval, 1800);
      assert.equal(flaky.packets.length, 4, 'three connects (two lost), one announce');
      assert.ok(Date.now() - started >= 100 + 200, 'waited 100 ms, then 200 ms');
      const announce = decodeRequest(flaky.packets[3]!);
      assert.ok(announce.action === 'announce');
      assert.equal(announce.urlData, '/announce?passkey=s3cret');
    } finally {
      await flaky.close();
    }
  });

  test('a closed port is reported refused at once (UDP: ICMP on a connected socket), its error code once', async () => {
    const udpPort = await closedUdpPort();
    const tcpPort = await closedTcpPort();
    const once = (text: string): void => assert.equal(text.match(/ECONNREFUSED/g)?.length, 1, text);
    const u = await query(['-t', `udp://127.0.0.1:${udpPort}/announce`, '--timeout', '30']);
    assert.equal(u.code, 1);
    assert.match(u.stdout, new RegExp(`Error\\s+refused: ICMP port unreachable from 127\\.0\\.0\\.1:${udpPort} \\(ECONNREFUSED\\)`));
    once(u.stdout);
    assert.ok(u.ms < 10_000, `took ${u.ms} ms of a 30 s timeout`);
    const h = await query(['-t', `http://127.0.0.1:${tcpPort}/announce`, '--timeout', '30']);
    assert.equal(h.code, 1);
    assert.match(h.stdout, new RegExp(`Error\\s+connection refused \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${tcpPort}\\)\\n`));
    once(h.stdout);
    const c = await checkJson(['-t', `udp://127.0.0.1:${udpPort}/announce`, '--timeout', '30']);
    assert.equal(c.run.code, 1);
    assert.ok(c.run.ms < 10_000, `--check took ${c.run.ms} ms of a 30 s timeout`);
    assert.equal(c.status.get('reachable over IPv4'), 'FAIL');
    assert.match(c.detail.get('reachable over IPv4') ?? '', /^refused: ICMP port unreachable from 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.doesNotMatch(c.run.stdout, /published/, 'an IP literal publishes nothing');
  });

  test('--help: one default for -H; --no-stop and --udp documented', async () => {
    const r = await query(['--help']);
    assert.equal(r.code, 0);
    const h = r.stdout.slice(r.stdout.indexOf('-H, --hash'), r.stdout.indexOf('-e, --event'));
    assert.equal(h.match(/default/g)?.length, 1, h);
    assert.doesNotMatch(h, /default: \[\]/);
    assert.match(r.stdout, /--no-stop\s+after an announce, stay in the swarm \(by default\s+event=stopped follows/);
    assert.match(r.stdout, /--udp <url>\s+with --check of an http\(s\):\/\/ tracker: its UDP announce/);
  });

  test('bad flags: exit 2 with a message naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [[], /-t\/--tracker: which tracker\?/],
      [['-t', 'ftp://x/announce'], /-t: unsupported scheme/],
      [['-t', 'http://x/announce', '-H', 'abc'], /-H: an info_hash is 40 hex digits/],
      [['-t', 'http://x/announce', '-H', HASH, '-H', HASH], /-H: several info_hashes only with -s/],
      [['-t', 'http://x/announce', '-l'], /-l\/--lookup needs -p/],
      [['-t', 'http://x/announce', '-o', 'xml'], /option '-o, --output <format>' argument 'xml' is invalid/],
      [['-t', 'http://x/announce', '-e', 'paused'], /option '-e, --event <event>' argument 'paused' is invalid/],
      [['-t', 'http://x/announce', '-n', 'lots'], /option '-n, --numwant <n>' argument 'lots' is invalid/],
      [['-b'], /-b\/--batch needs -f FILE/],
      [['-b', '-f', '/nonexistent/list'], /-f: cannot read \/nonexistent\/list/],
      [['-t', 'http://x/a', '-s'], /cannot derive a scrape URL/],
      [['--bogus'], /unknown option '--bogus'/],
      [['-t', 'http://x/announce', '--udp', 'udp://x:1/announce'], /--udp: only with --check/],
      [['-t', 'udp://x:1/announce', '--check', '--udp', 'udp://x:1/announce'], /--udp: the tracker is already udp:\/\//],
      [['-t', 'http://x/announce', '--check', '--udp', 'http://x/announce'], /--udp: a udp:\/\/ URL/],
      [['-t', 'http://x/announce', '--check', '-H', HASH, '-H', HASH], /-H: --check announces on one info_hash/],
    ];
    for (const [args, message] of cases) {
      const r = await query(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});

describe('wildkat-query --check against a whitelist: wildkat --allow-list', () => {
  test('-H a listed hash: every check passes; a random hash: "reachable, but refuses this info_hash", not unreachable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-qa-'));
    let t: TestTracker | null = null;
    try {
      const list = join(dir, 'allow.txt');
      writeFileSync(list, `${HASH}\n`);
      t = await startTestTrackerSamePort({ allowList: list });
      for (const url of [`http://127.0.0.1:${t.httpPort}/announce`, `udp://127.0.0.1:${t.udpPort}/announce`]) {
        const listed = await checkJson(['-t', url, '-H', HASH]);
        assert.equal(listed.run.code, 0, listed.run.stdout);
        assert.deepEqual(listed.report.checks.filter((c) => c.status !== 'PASS'), [], url);
        const random = await checkJson(['-t', url]);
        assert.equal(random.run.code, 0, random.run.stdout);
        assert.deepEqual([...random.status], [['reachable over IPv4', 'WARN']], url);
        assert.match(random.detail.get('reachable over IPv4') ?? '', /^reachable \(127\.0\.0\.1 answered in \d+ ms\), but refuses this info_hash \(whitelist\?\) — give a hash it tracks with -H \(torrent not allowed on this tracker\)$/);
        assert.ok(random.report.notes.some((n) => /^no further checks/.test(n)));
      }
    } finally {
      await t?.tracker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("wildkat-query --check against Debian's opentracker (whitelist)", { skip: opentrackerSkip }, () => {
  const LISTED = '0123456789abcdef0123456789abcdef01234567';
  const UNLISTED = 'fedcba9876543210fedcba9876543210fedcba98';
  let ot: Opentracker | null = null;
  let http = '';
  let udp = '';
  before(async () => {
    ot = await startOpentracker([LISTED]);
    http = `http://127.0.0.1:${ot.httpPort}/announce`;
    udp = `udp://127.0.0.1:${ot.udpPort}/announce`;
  });
  after(async () => {
    await ot?.stop();
  });

  test('-H a whitelisted hash: reachable, announce and scrape PASS (HTTP and UDP); compact=0 and the requester listed are WARNs', async () => {
    const h = await checkJson(['-t', http, '-H', LISTED, '--udp', udp, '--timeout', '5']);
    assert.equal(h.run.code, 0, h.run.stdout);
    assert.equal(h.status.get('reachable over IPv4'), 'PASS');
    assert.match(h.detail.get('reachable over IPv4') ?? '', /^127\.0\.0\.1 answered in \d+ ms$/);
    assert.equal(h.status.get('http announce'), 'PASS');
    assert.equal(h.status.get('http scrape'), 'PASS', h.detail.get('http scrape'));
    assert.equal(h.status.get('udp announce'), 'PASS', h.detail.get('udp announce'));
    // opentracker answers compact=0 with HTTP 400 and lists the requester too: neither breaks BEP 3 / 23.
    assert.equal(h.status.get('non-compact peers'), 'WARN');
    assert.match(h.detail.get('non-compact peers') ?? '', /HTTP 400/);
    assert.equal(h.status.get('requester excluded'), 'WARN');
    assert.match(h.detail.get('requester excluded') ?? '', /came back \(BEP 3 allows it/);
    assert.equal(h.report.summary['fail'], 0, h.run.stdout);

    const u = await checkJson(['-t', udp, '-H', LISTED, '--timeout', '5']);
    assert.equal(u.run.code, 0, u.run.stdout);
    for (const name of ['reachable over IPv4', 'udp announce', 'udp scrape']) assert.equal(u.status.get(name), 'PASS', `${name}: ${u.detail.get(name)}`);
    assert.equal(u.report.summary['fail'], 0, u.run.stdout);

    const table = await query(['-t', http, '-H', LISTED, '--udp', udp, '--check', '--timeout', '5']);
    assert.match(table.stdout, /PASS {2}http scrape/);
    assert.match(table.stdout, /\d+ passed, \d+ warnings?, 0 failed/);
  });

  test('a hash not on the whitelist, or a random one: "reachable, but refuses this info_hash", never unreachable', async () => {
    const cases: [string[], RegExp][] = [
      [['-t', http], /not authorized/],
      [['-t', http, '-H', UNLISTED], /not authorized/],
      [['-t', udp], /8 bytes/],
      [['-t', udp, '-H', UNLISTED], /8 bytes/],
    ];
    for (const [args, why] of cases) {
      const c = await checkJson([...args, '--timeout', '5']);
      const reach = c.detail.get('reachable over IPv4') ?? '';
      assert.equal(c.status.get('reachable over IPv4'), 'WARN', `${args.join(' ')}: ${reach}`);
      assert.match(reach, /^reachable \(127\.0\.0\.1 answered in \d+ ms\), but refuses this info_hash \(whitelist\?\) — give a hash it tracks with -H/);
      assert.match(reach, why);
      assert.equal(c.report.summary['fail'], 0, c.run.stdout);
      assert.doesNotMatch(c.run.stdout, /unreachable|published/);
    }
    const plain = await query(['-t', udp, '--timeout', '5']);
    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /Hint\s+answered, but refuses this info_hash \(whitelist\?\)/);
  });
});
