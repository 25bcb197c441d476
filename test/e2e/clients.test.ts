/**
 * Real clients end to end: a real client seeds a random file through our
 * tracker, a different real client downloads it; the download must be
 * byte-identical and a scrape must show the swarm (complete ≥ 2,
 * downloaded ≥ 1). Client settings and why they are needed: e2e-clients.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { decode } from '../../src/protocol/bencode.js';
import { percentEncode } from '../../src/protocol/http.js';
import { startTracker, type RunningTracker } from '../../src/tracker/daemon.js';
import { aria2, qbittorrent, transmission, type ClientOptions, type ClientRun } from './real-clients.js';
import { asDict, randomPort, trackerGet } from '../helpers.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const inCi = process.env['CI'] !== undefined;
const needed = ['mktorrent', 'aria2c', 'transmission-cli', 'qbittorrent-nox'];
const missing = needed.filter((c) => !has(c));
// In CI the clients must be there (.ci/run installs them); elsewhere their absence skips.
const skip = missing.length > 0 && !inCi ? `not installed: ${missing.join(', ')}` : false;
const hasLoopback6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.address === '::1'));
const TRANSFER_WAIT_MS = 90_000;
const FILE_SIZE = 3 * 1024 * 1024;

/** The info_hash of a .torrent file: SHA-1 of its bencoded `info` dictionary, as stored. */
function infoHash(torrent: Buffer): string {
  const start = torrent.indexOf('4:info') + 6;
  // `info` is the last key mktorrent writes; the dict ends one byte before the outer `e`.
  const info = torrent.subarray(start, torrent.length - 1);
  assert.ok(asDict(decode(info)) instanceof Map);
  return execFileSync('sha1sum', { input: info }).toString().slice(0, 40);
}

type Client = (o: ClientOptions) => ClientRun;

interface Case {
  name: string;
  transport: 'http' | 'udp';
  family: 4 | 6;
  seeder: Client;
  leecher: Client;
}

const CASES: Case[] = [
  { name: 'HTTP: Transmission seeds, aria2 downloads', transport: 'http', family: 4, seeder: transmission, leecher: aria2 },
  { name: 'HTTP: aria2 seeds, Transmission downloads', transport: 'http', family: 4, seeder: aria2, leecher: transmission },
  { name: 'UDP: Transmission seeds, aria2 downloads', transport: 'udp', family: 4, seeder: transmission, leecher: aria2 },
  { name: 'UDP: aria2 seeds, Transmission downloads', transport: 'udp', family: 4, seeder: aria2, leecher: transmission },
  // Transmission 3.00 completes no transfer over [::1] with any tracker: aria2 and qBittorrent there.
  { name: 'HTTP on [::1]: aria2 seeds, qBittorrent downloads', transport: 'http', family: 6, seeder: aria2, leecher: qbittorrent },
  { name: 'HTTP on [::1]: qBittorrent seeds, aria2 downloads', transport: 'http', family: 6, seeder: qbittorrent, leecher: aria2 },
];

describe('real BitTorrent clients through wildkat-tracker', { skip, concurrency: 1 }, () => {
  for (const c of CASES) {
    test(c.name, { skip: c.family === 6 && !hasLoopback6 ? 'no ::1 on this machine' : false, timeout: TRANSFER_WAIT_MS + 60_000 }, async () => {
      const host = c.family === 4 ? '127.0.0.1' : '::1';
      const urlHost = c.family === 4 ? host : `[${host}]`;
      const dir = mkdtempSync(join(tmpdir(), 'wildkat-e2e-'));
      let tracker: RunningTracker | null = null;
      const clients: ClientRun[] = [];
      try {
        // Short intervals so that clients re-announce (and learn of each other) quickly.
        tracker = await startTracker(
          { host, httpPort: 0, udpPort: 0, webHttpPort: null, interval: 10, minInterval: 2 },
          { logger: pino({ level: 'silent' }) },
        );
        const port = tracker.port(c.transport, c.family);
        const announceUrl = `${c.transport}://${urlHost}:${port}/announce`;
        const seedDir = join(dir, 'seed');
        const leechDir = join(dir, 'leech');
        mkdirSync(seedDir);
        mkdirSync(leechDir);
        const data = randomBytes(FILE_SIZE);
        writeFileSync(join(seedDir, 'payload.bin'), data);
        const torrentPath = join(dir, 'payload.torrent');
        execFileSync('mktorrent', ['-p', '-a', announceUrl, '-l', '18', '-o', torrentPath, join(seedDir, 'payload.bin')], { stdio: 'ignore' });
        const hash = infoHash(readFileSync(torrentPath));

        const options = (seeding: boolean, name: string): ClientOptions => ({
          torrent: torrentPath,
          dir: seeding ? seedDir : leechDir,
          home: join(dir, `home-${name}`),
          listenPort: randomPort(),
          extraPort: randomPort(),
          seeding,
          family: c.family,
        });
        clients.push(c.seeder(options(true, 'seeder')));
        // The seeder announces first (Transmission must be known before the other connects in).
        await new Promise((r) => setTimeout(r, 3000));
        clients.push(c.leecher(options(false, 'leecher')));

        const target = join(leechDir, 'payload.bin');
        const deadline = Date.now() + TRANSFER_WAIT_MS;
        let done = false;
        while (!done && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          done = existsSync(target) && statSync(target).size === FILE_SIZE && readFileSync(target).equals(data);
          for (const cl of clients) assert.equal(cl.child.exitCode ?? cl.child.signalCode, null, `${cl.name} exited early:\n${cl.output()}`);
        }
        assert.ok(done, `no complete download within ${TRANSFER_WAIT_MS / 1000} s.\nseeder:\n${clients[0]!.output().slice(-3000)}\nleecher:\n${clients[1]!.output().slice(-3000)}`);

        // Both now seed; the leecher has announced `completed`.
        let files = new Map<string, unknown>();
        const hashBytes = Buffer.from(hash, 'hex').toString('latin1');
        const scrapeDeadline = Date.now() + 30_000;
        for (;;) {
          const reply = await trackerGet(tracker.port('http', c.family), `/scrape?info_hash=${percentEncode(hashBytes)}`, host);
          files = asDict(asDict(reply.get('files')).get(hashBytes));
          if ((files.get('complete') as number) >= 2 && (files.get('downloaded') as number) >= 1) break;
          assert.ok(Date.now() < scrapeDeadline, `scrape never showed the swarm: ${JSON.stringify([...files])}`);
          await new Promise((r) => setTimeout(r, 1000));
        }
      } finally {
        for (const cl of clients) cl.stop();
        await tracker?.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
