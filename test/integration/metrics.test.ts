/**
 * /metrics on the stats page listener: valid Prometheus text (promtool check
 * metrics), counters that move with HTTP and UDP traffic over IPv4 and IPv6,
 * the same figures as /stats.json, certificate expiry, access list, state
 * save and sweeper figures; --no-metrics; and the example alert rules
 * checked and unit-tested with promtool.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeResponse, encodeConnectRequest } from '../../src/protocol/udp.js';
import { hasCommand, hasLoopback6, httpGet, id20, makeCert, startTestTracker, UdpClient, waitFor, type TestTracker } from '../helpers.js';
import { httpAnnounce, httpScrape, udpAnnounce, udpScrape } from '../tracker-client.js';

const skip = !hasCommand('promtool') && process.env['CI'] === undefined ? 'promtool not installed (Debian: prometheus)' : false;
const RULES = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus-alerts.yml');

async function scrapeMetrics(t: TestTracker, host = '127.0.0.1'): Promise<string> {
  const r = await httpGet(t.tracker.port('web-http', host.includes(':') ? 6 : 4), '/metrics', {}, host);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return r.body.toString();
}

function promtoolCheck(text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
}

/** The value of one series, by name and exact labels ("" for none). */
function value(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{${labels}} `));
  assert.ok(line !== undefined, `no series ${name}{${labels}}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('/metrics', { skip }, () => {
  let dir: string;
  let t: TestTracker;
  let certNotAfter: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wildkat-metrics-'));
    const cert = makeCert(dir, 'metrics');
    certNotAfter = Math.floor(new Date(new X509Certificate(cert.pem).validTo).getTime() / 1000);
    const list = join(dir, 'allow.txt');
    writeFileSync(list, `${Buffer.from(id20('m1'), 'latin1').toString('hex')}\n${Buffer.from(id20('m6'), 'latin1').toString('hex')}\n`);
    t = await startTestTracker({
      webHttpPort: 0,
      httpsPort: 0,
      cert: cert.certPath,
      key: cert.keyPath,
      allowList: list,
      stateFile: join(dir, 'state.jsonl'),
      ...(hasLoopback6 ? { host: null, ipv6: true } : {}),
    });
  });
  after(async () => {
    await t?.tracker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('valid exposition; counters move with traffic over HTTP and UDP, IPv4 and IPv6', async () => {
    const before = await scrapeMetrics(t);
    promtoolCheck(before);
    assert.equal(value(before, 'wildkat_requests_total', 'transport="udp",family="ipv4",kind="announce"'), 0);
    const hash = id20('m1');
    const udpPort = t.tracker.port('udp', 4);
    const httpPort = t.tracker.port('http', 4);
    assert.equal((await udpAnnounce(udpPort, { infoHash: hash, peerId: id20('u'), port: 7001 })).failure, null);
    assert.equal((await httpAnnounce(httpPort, { infoHash: hash, peerId: id20('h'), port: 7002, left: 0 })).failure, null);
    await httpScrape(httpPort, [hash]);
    await udpScrape(udpPort, [hash]);
    assert.notEqual((await httpAnnounce(httpPort, { infoHash: id20('refused'), peerId: id20('h'), port: 7002 })).failure, null);
    if (hasLoopback6) {
      const six = new UdpClient(t.tracker.port('udp', 6), '::1');
      try {
        assert.equal(decodeResponse(await six.request(encodeConnectRequest(5))).action, 'connect');
      } finally {
        six.close();
      }
    }
    const text = await scrapeMetrics(t);
    promtoolCheck(text);
    assert.equal(value(text, 'wildkat_requests_total', 'transport="udp",family="ipv4",kind="announce"'), 1);
    assert.equal(value(text, 'wildkat_requests_total', 'transport="udp",family="ipv4",kind="connect"'), 2);
    assert.equal(value(text, 'wildkat_requests_total', 'transport="udp",family="ipv4",kind="scrape"'), 1);
    assert.equal(value(text, 'wildkat_requests_total', 'transport="http",family="ipv4",kind="announce"'), 1);
    assert.equal(value(text, 'wildkat_requests_total', 'transport="http",family="ipv4",kind="scrape"'), 1);
    if (hasLoopback6) assert.equal(value(text, 'wildkat_requests_total', 'transport="udp",family="ipv6",kind="connect"'), 1);
    assert.equal(value(text, 'wildkat_replies_total', 'transport="http",outcome="refused",reason="torrent_not_allowed"'), 1);
    assert.equal(value(text, 'wildkat_replies_total', 'transport="http",outcome="ok",reason=""'), 2);
    assert.equal(value(text, 'wildkat_response_seconds_count', 'transport="udp"'), hasLoopback6 ? 5 : 4);
    assert.equal(value(text, 'wildkat_torrents'), 1);
    assert.equal(value(text, 'wildkat_peers', 'role="seeder"'), 1);
    assert.equal(value(text, 'wildkat_peers', 'role="leecher"'), 1);
    // The same counters as the stats page.
    const stats = JSON.parse((await httpGet(t.tracker.port('web-http', 4), '/stats.json')).body.toString()) as { periods: { all_time: { announces: number; scrapes: number } } };
    assert.equal(stats.periods.all_time.announces, 2);
    assert.equal(stats.periods.all_time.scrapes, 2);
  });

  test('certificate expiry, access list, state saves, sweeper slices, event loop, process metrics', async () => {
    await t.tracker.saveState();
    // The sweeper's first slice comes a second after the start.
    await waitFor(async () => /^wildkat_sweep_slice_seconds_count [1-9]/m.test(await scrapeMetrics(t)), 5000, 'a sweeper slice');
    const text = await scrapeMetrics(t);
    assert.equal(value(text, 'wildkat_tls_certificate_expiry_timestamp_seconds', 'listener="https"'), certNotAfter);
    assert.equal(value(text, 'wildkat_access_list_hashes', 'mode="allow"'), 2);
    assert.ok(Math.abs(value(text, 'wildkat_access_list_last_reload_timestamp_seconds') - Date.now() / 1000) < 120);
    assert.equal(value(text, 'wildkat_access_list_reload_failures_total'), 0);
    assert.equal(value(text, 'wildkat_state_save_seconds_count'), 1);
    assert.ok(value(text, 'wildkat_event_loop_delay_p99_seconds') >= 0);
    assert.ok(value(text, 'process_cpu_seconds_total') > 0);
    assert.ok(text.includes('# TYPE nodejs_heap_size_used_bytes gauge'));
  });
});

test('--no-metrics: no /metrics', async () => {
  const t = await startTestTracker({ webHttpPort: 0, metrics: false });
  try {
    assert.equal((await httpGet(t.tracker.port('web-http'), '/metrics')).status, 404);
  } finally {
    await t.tracker.close();
  }
});

test('the example alert rules are valid and fire when they should (promtool)', { skip }, () => {
  const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'wildkat-rules-'));
  try {
    const tests = join(dir, 'alerts.test.yml');
    // 30 minutes of series: a certificate 10 days from its end, announces stopping after 5 minutes, a slow event loop.
    writeFileSync(
      tests,
      `rule_files: [${JSON.stringify(RULES)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'wildkat_tls_certificate_expiry_timestamp_seconds{instance="t1",listener="https"}'
        values: '864000x120'
      - series: 'wildkat_requests_total{instance="t1",transport="udp",family="ipv4",kind="announce"}'
        values: '0 10 20 30 40 50 50x30'
      - series: 'wildkat_event_loop_delay_p99_seconds{instance="t1"}'
        values: '0.01x5 0.5x20'
    alert_rule_test:
      - eval_time: 90m
        alertname: WildkatCertificateExpiresSoon
        exp_alerts:
          - exp_labels: { severity: warning, instance: t1, listener: https }
            exp_annotations:
              summary: 'TLS certificate of t1 (https) expires in under 14 days'
              description: 'Renew it (acme.sh --cron) and reload the tracker (systemctl reload wildkat-tracker).'
      - eval_time: 4m
        alertname: WildkatNoAnnounces
        exp_alerts: []
      - eval_time: 20m
        alertname: WildkatNoAnnounces
        exp_alerts:
          - exp_labels: { severity: critical, instance: t1 }
            exp_annotations:
              summary: 't1 answered no announce in 10 minutes'
      - eval_time: 3m
        alertname: WildkatEventLoopDelayHigh
        exp_alerts: []
      - eval_time: 15m
        alertname: WildkatEventLoopDelayHigh
        exp_alerts:
          - exp_labels: { severity: warning, instance: t1 }
            exp_annotations:
              summary: 'Event-loop delay p99 of t1 is 500ms (over 100 ms)'
              description: 'Replies are slow: the process is out of CPU. Look at the stats page; consider --workers with --store redis://.'
`,
    );
    const run = spawnSync('promtool', ['test', 'rules', tests], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
