/**
 * One real-client transfer: a real client seeds a random file, another
 * downloads it; the download must be byte-identical and a scrape must show
 * the swarm (complete ≥ 2, downloaded ≥ 1). The seeder and the leecher may
 * announce to different trackers (the same swarm through a shared store):
 * each gets a .torrent of its own whose info dictionary, and so info_hash,
 * is the same. Client settings and why they are needed: real-clients.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../../src/protocol/bencode.js';
import { percentEncode } from '../../src/protocol/http.js';
import { asDict, freePort, hasCommand, laneSkip, trackerGet } from '../helpers.js';
import type { ClientOptions, ClientRun } from './real-clients.js';

const inCi = process.env['CI'] !== undefined;
const needed = ['mktorrent', 'aria2c', 'transmission-cli', 'qbittorrent-nox'];
const missing = needed.filter((c) => !hasCommand(c));
/** In CI the clients must be there (.ci/run installs them); elsewhere their absence skips. */
export const clientsSkip = laneSkip || (missing.length > 0 && !inCi ? `not installed: ${missing.join(', ')}` : false);
/**
 * Usually 15–25 s. Transmission sends each UDP tracker request once and
 * gives up on it after 60 s, then tries again 20 s later: a datagram lost on
 * a busy machine costs 80 s before the swarm can meet, and the wait covers
 * that one retry (and aria2's 10-s unchoke round after it).
 */
const TRANSFER_WAIT_MS = 120_000;
export const TRANSFER_TIMEOUT_MS = TRANSFER_WAIT_MS + 60_000;
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

export interface TransferCase {
  name: string;
  family: 4 | 6;
  seeder: Client;
  leecher: Client;
}

export interface TransferTrackers {
  seederUrl: string;
  leecherUrl: string;
  /** An HTTP tracker port (on the case's loopback address) to scrape the swarm at. */
  scrapePort: number;
  /** What the trackers (run verbose) were asked and answered since `since` (ms): for a failure's message. */
  traffic(since: number): string[];
}

/** The kernel's UDP counters: a datagram dropped on a full socket buffer shows in RcvbufErrors. */
function udpCounters(): string {
  const rows = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp: '));
  const names = rows[0]?.split(/\s+/).slice(1) ?? [];
  const values = rows[1]?.split(/\s+/).slice(1) ?? [];
  return names.map((n, i) => `${n}=${values[i]}`).filter((p) => /^(InErrors|RcvbufErrors|NoPorts)=/.test(p)).join(' ');
}

/** A client's output with runs of one repeated line (Transmission's status every 200 ms) written once, with a count. */
function squeeze(output: string): string {
  const out: string[] = [];
  let last = '';
  let repeats = 0;
  for (const line of output.split(/[\r\n]+/).map((l) => l.trimEnd())) {
    if (line === '') continue;
    if (line === last) {
      repeats++;
      continue;
    }
    if (repeats > 0) out.push(`  (the line above ${repeats} more times)`);
    out.push(line);
    last = line;
    repeats = 0;
  }
  if (repeats > 0) out.push(`  (the line above ${repeats} more times)`);
  return out.join('\n');
}

export async function transfer(c: TransferCase, t: TransferTrackers): Promise<void> {
  const host = c.family === 4 ? '127.0.0.1' : '::1';
  const dir = mkdtempSync(join(tmpdir(), 'wildkat-e2e-'));
  const clients: ClientRun[] = [];
  try {
    const seedDir = join(dir, 'seed');
    const leechDir = join(dir, 'leech');
    mkdirSync(seedDir);
    mkdirSync(leechDir);
    const data = randomBytes(FILE_SIZE);
    writeFileSync(join(seedDir, 'payload.bin'), data);
    const torrent = (name: string, url: string): string => {
      const path = join(dir, `${name}.torrent`);
      execFileSync('mktorrent', ['-p', '-a', url, '-l', '18', '-o', path, join(seedDir, 'payload.bin')], { stdio: 'ignore' });
      return path;
    };
    const seedTorrent = torrent('seeder', t.seederUrl);
    const leechTorrent = t.leecherUrl === t.seederUrl ? seedTorrent : torrent('leecher', t.leecherUrl);
    const hash = infoHash(readFileSync(seedTorrent));
    assert.equal(infoHash(readFileSync(leechTorrent)), hash, 'both .torrent files name one swarm');

    const taken = new Set<number>();
    const options = async (seeding: boolean, name: string): Promise<ClientOptions> => ({
      torrent: seeding ? seedTorrent : leechTorrent,
      dir: seeding ? seedDir : leechDir,
      home: join(dir, `home-${name}`),
      listenPort: await freePort(host, taken),
      extraPort: await freePort(host, taken),
      seeding,
      family: c.family,
    });
    const started = Date.now();
    const udpBefore = udpCounters();
    clients.push(c.seeder(await options(true, 'seeder')));
    // The seeder announces first (Transmission must be known before the other connects in).
    await new Promise((r) => setTimeout(r, 3000));
    clients.push(c.leecher(await options(false, 'leecher')));

    const target = join(leechDir, 'payload.bin');
    const deadline = Date.now() + TRANSFER_WAIT_MS;
    let done = false;
    while (!done && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      done = existsSync(target) && statSync(target).size === FILE_SIZE && readFileSync(target).equals(data);
      for (const cl of clients) assert.equal(cl.child.exitCode ?? cl.child.signalCode, null, `${cl.name} exited early:\n${squeeze(cl.output()).slice(-4000)}`);
    }
    if (!done) {
      // Most telling first: the message may be cut short where it is shown.
      assert.fail(
        [
          `no complete download within ${TRANSFER_WAIT_MS / 1000} s. What the trackers were asked (s after the seeder started):`,
          ...t.traffic(started).slice(0, 60),
          `kernel UDP counters before: ${udpBefore}; now: ${udpCounters()}`,
          `leecher (${clients[1]!.name}):`,
          squeeze(clients[1]!.output()).slice(-2500),
          `seeder (${clients[0]!.name}):`,
          squeeze(clients[0]!.output()).slice(-2500),
        ].join('\n'),
      );
    }

    // Both now seed; the leecher has announced `completed`.
    let files = new Map<string, unknown>();
    const hashBytes = Buffer.from(hash, 'hex').toString('latin1');
    const scrapeDeadline = Date.now() + 30_000;
    for (;;) {
      const reply = await trackerGet(t.scrapePort, `/scrape?info_hash=${percentEncode(hashBytes)}`, host);
      files = asDict(asDict(reply.get('files')).get(hashBytes));
      if ((files.get('complete') as number) >= 2 && (files.get('downloaded') as number) >= 1) break;
      assert.ok(Date.now() < scrapeDeadline, `scrape never showed the swarm: ${JSON.stringify([...files])}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    for (const cl of clients) cl.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
