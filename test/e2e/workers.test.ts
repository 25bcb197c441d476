/**
 * --workers 2 on a real redis-server: HTTP and UDP served by the workers
 * together, the stats page showing all of them, a dead worker replaced,
 * SIGHUP passed on, SIGTERM draining every worker; and the start refused
 * without a shared store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { decodeCompactPeers } from '../../src/protocol/peers.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest } from '../../src/protocol/udp.js';
import { BIN, startInstance, type Instance } from '../daemon-process.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, httpGet, id20, makeCert, randomPort, UdpClient, waitFor } from '../helpers.js';
import { redisSkip, startRedis, type TestRedis } from '../redis-server.js';
import { httpAnnounce, httpScrape, udpAnnounce, udpScrape } from '../tracker-client.js';
import { WsClient } from '../ws-client.js';

interface StatsJson {
  live: { torrents: number; peers: number };
  periods: { all_time: { announces: number; scrapes: number; unique_ips: number; protocols: { http: { announces: number }; udp: { announces: number } } } };
}

async function stats(webPort: number): Promise<StatsJson> {
  return JSON.parse((await httpGet(webPort, '/stats.json')).body.toString()) as StatsJson;
}

test('--workers without a shared store is refused, naming --store', () => {
  const port = String(randomPort());
  const r = spawnSync(process.execPath, [BIN, '--workers', '2', '--http-port', port, '--udp-port', port, '--web-http-port', '0'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--workers: 2 processes need one shared store: give --store redis:\/\/host:port/);
});

describe('--workers 2 on Redis', { skip: redisSkip, concurrency: 1 }, () => {
  let redis: TestRedis;
  let t: Instance;
  let pids: number[];
  let certDir: string;
  before(async () => {
    redis = await startRedis();
    // A certificate without an HTTPS port: the warning that it is unused comes once, not once per process.
    certDir = mkdtempSync(join(tmpdir(), 'wk-workers-cert-'));
    const cert = makeCert(certDir, 'workers');
    t = await startInstance(redis.url, ['--workers', '2', '--cert', cert.certPath, '--key', cert.keyPath], 'workers ready');
    pids = (t.daemon.lines().find((l) => l['msg'] === 'workers ready')!['pids'] as number[]).slice();
    assert.equal(pids.length, 2);
  });
  after(async () => {
    await t?.daemon.stop();
    await redis?.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('--cert/--key without an HTTPS port: one warning from the primary, none from the workers', () => {
    const warned = t.daemon.lines().filter((l) => l['msg'] === '--cert/--key given without --https-port or --web-https-port: no HTTPS listener, the certificate is not used');
    assert.equal(warned.length, 1);
  });

  test('HTTP and UDP announces and scrapes, answered by both workers as one tracker', async () => {
    const hash = id20('workers');
    const requests = 40;
    // Fresh connections and sockets: the primary spreads them over the workers.
    for (let i = 0; i < requests; i++) {
      const a = { infoHash: hash, peerId: id20(`w${i}`), port: 8000 + i, left: i % 4 === 0 ? 0 : 100 };
      const out = i % 2 === 0 ? await udpAnnounce(t.port, a) : await httpAnnounce(t.port, a);
      assert.equal(out.failure, null);
      assert.equal(out.complete + out.incomplete, i + 1, 'every earlier peer is counted, whichever worker took it');
    }
    const expected = [{ complete: 10, incomplete: 30, downloaded: 0 }];
    assert.deepEqual(await udpScrape(t.port, [hash]), expected);
    assert.deepEqual(await httpScrape(t.port, [hash]), expected);
    // Bad input is answered the same by every worker.
    const bad = await httpGet(t.port, '/announce?peer_id=x');
    assert.match(bad.body.toString(), /failure reason.*missing info_hash/);
    const udp = new UdpClient(t.port);
    try {
      const reply = decodeResponse(await udp.request(encodeAnnounceRequest({ connectionId: Buffer.alloc(8), transactionId: 7, announce: { infoHash: hash, peerId: id20('x'), port: 1, downloaded: 0, uploaded: 0, left: 1, event: 'started', numwant: 5 }, key: 1 })));
      assert.deepEqual(reply, { action: 'error', transactionId: 7, message: 'invalid connection id' });
      const c = decodeResponse(await udp.request(encodeConnectRequest(8)));
      assert.ok(c.action === 'connect');
      const a = decodeResponse(await udp.request(encodeAnnounceRequest({ connectionId: c.connectionId, transactionId: 9, announce: { infoHash: hash, peerId: id20('w0'), port: 8000, downloaded: 0, uploaded: 0, left: 0, event: 'none', numwant: 5 }, key: 1 })));
      assert.ok(a.action === 'announce');
      assert.equal(decodeCompactPeers(a.peers, 4).length, 5, 'a seeder is handed 5 of the 30 leechers');
    } finally {
      udp.close();
    }
    // The stats page (the primary) shows every worker's requests together, and the shared swarms.
    await waitFor(async () => (await stats(t.webPort)).live.peers === 40, 3000, 'live peers on the stats page');
    const s = await stats(t.webPort);
    assert.equal(s.periods.all_time.announces, requests + 1, 'the announces both workers answered (refused ones are not announces)');
    assert.equal(s.periods.all_time.protocols.udp.announces + s.periods.all_time.protocols.http.announces, requests + 1);
    assert.equal(s.periods.all_time.unique_ips, 1, 'one client address, counted once across workers');
    assert.equal(s.live.torrents, 1);
    // /metrics on the primary: every worker's counters summed, the shared store's figures once.
    const metrics = (await httpGet(t.webPort, '/metrics')).body.toString();
    if (hasCommand('promtool')) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    }
    const series = (name: string): number => Number(/ ([0-9.e+-]+)$/.exec(metrics.split('\n').find((l) => l.startsWith(name))!)![1]);
    assert.equal(series('wildkat_requests_total{transport="udp",family="ipv4",kind="announce"}') + series('wildkat_requests_total{transport="http",family="ipv4",kind="announce"}'), requests + 1);
    assert.equal(series('wildkat_peers{role="leecher"}') + series('wildkat_peers{role="seeder"}'), 40, 'swarm figures once, not once per worker');
    assert.equal(series('wildkat_replies_total{transport="udp",outcome="error",reason="bad_connection_id"}'), 1);
  });

  test('WebSocket peers need one process on the memory store: off here, said once, the upgrade refused', async () => {
    assert.equal(t.daemon.lines().filter((l) => l['msg'] === 'WebSocket (browser) peers are off: they need one tracker process on the memory store (--store memory, no --workers)').length, 1);
    await assert.rejects(WsClient.open(`ws://127.0.0.1:${t.port}/announce`));
    assert.equal((await httpAnnounce(t.port, { infoHash: id20('ws-off'), peerId: id20('h'), port: 1 })).failure, null, 'HTTP goes on');
  });

  test('a worker that dies is replaced and service goes on', { timeout: 30_000 }, async () => {
    process.kill(pids[0]!, 'SIGKILL');
    await t.daemon.waitForLine('worker died: starting another', 10_000);
    const ready = (): number[] => t.daemon.lines().filter((l) => l['msg'] === 'worker ready').map((l) => l['pid'] as number);
    await waitFor(() => ready().some((p) => !pids.includes(p)), 10_000, 'a new worker');
    // The worker logs "worker ready" just before its message reaches the primary, which counts it then.
    const health = async (): Promise<unknown> => JSON.parse((await httpGet(t.webPort, '/health')).body.toString()) as unknown;
    await waitFor(async () => ((await health()) as { status: string }).status === 'ok', 5000, '/health ok again');
    assert.deepEqual(await health(), { status: 'ok', listeners: { up: 2, expected: 2 }, store: 'ok' }, 'both workers counted again');
    for (let i = 0; i < 10; i++) assert.equal((await httpAnnounce(t.port, { infoHash: id20('after'), peerId: id20(`a${i}`), port: 5000 + i })).failure, null);
  });

  test('SIGHUP reaches every worker; SIGTERM drains them all and exits 0', { timeout: 30_000 }, async () => {
    const workerPids = (): Set<number> => new Set(t.daemon.lines().filter((l) => l['msg'] === 'worker ready').map((l) => l['pid'] as number));
    t.daemon.child.kill('SIGHUP');
    const reloads = (): Set<unknown> => new Set(t.daemon.lines().filter((l) => l['msg'] === 'reload requested: no TLS listener, nothing to reload').map((l) => l['pid']));
    await waitFor(() => reloads().size >= 3, 5000, 'a reload line from the primary and both live workers');
    const code = await t.daemon.stop('SIGTERM');
    assert.equal(code, 0);
    const stopped = new Set(t.daemon.lines().filter((l) => l['msg'] === 'stopped').map((l) => l['pid']));
    const live = [...workerPids()].filter((p) => p !== pids[0]);
    for (const p of live) assert.ok(stopped.has(p), `worker ${p} stopped cleanly`);
    assert.ok(stopped.has(t.daemon.child.pid), 'the primary stopped last');
  });
});
