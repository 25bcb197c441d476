/**
 * `npm run bench:ws`: WebSocket announces/s with 1,000 open sockets, p50/p99,
 * and memory per idle socket, for Wildkat and webtorrent's bittorrent-tracker
 * (ws: true), interleaved: every round runs each tracker afresh, in turn.
 * Trackers on CPU 1, the load on CPU 0 (taskset). bittorrent-tracker comes
 * from BT_DIR (default ~/.cache/tracker-bench/bt, `npm install --ignore-scripts
 * bittorrent-tracker` there; the bench does it if it is missing).
 *
 *   npm run bench:ws -- [--sockets 1000] [--swarms 100] [--duration 5] [--rounds 3] [--offers]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, flag, pin } from './common.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOCKETS = Number(arg('--sockets', '1000'));
const SWARMS = Number(arg('--swarms', '100'));
const DURATION = Number(arg('--duration', '5'));
const ROUNDS = Number(arg('--rounds', '3'));
const BT_DIR = process.env['BT_DIR'] ?? join(homedir(), '.cache', 'tracker-bench', 'bt');
const IDLE_MS = 1500;
/** --offers: every re-announce carries one offer for the tracker to pass on. */
const OFFERS = flag('--offers');

if (!existsSync(join(BT_DIR, 'node_modules', 'bittorrent-tracker', 'server.js'))) {
  mkdirSync(BT_DIR, { recursive: true });
  spawnSync('npm', ['install', '--prefix', BT_DIR, '--ignore-scripts', '--no-audit', '--no-fund', 'bittorrent-tracker'], { stdio: 'inherit' });
}
const btVersion = (JSON.parse(readFileSync(join(BT_DIR, 'node_modules', 'bittorrent-tracker', 'package.json'), 'utf8')) as { version: string }).version;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat; here, after the command name, at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startTracker(name: string, port: number): Promise<ChildProcess> {
  const [cmd, cmdArgs] = pin(1, [process.execPath, '--import', 'tsx', join(ROOT, 'bench', 'ws-trackers.ts'), name, String(port), BT_DIR]);
  const child = spawn(cmd, cmdArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
    child.stdout!.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return child;
}

interface Row {
  tracker: string;
  round: number;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  relayed: number;
  idleBytesPerSocket: number;
  clientCpu: number;
  /** The tracker's CPU time (user + system) per announce answered while loaded, µs. */
  cpuUsPerAnnounce: number;
}

async function measure(name: string, round: number, port: number): Promise<Row> {
  const tracker = await startTracker(name, port);
  // The tracker's own pid under taskset is the child's (taskset execs).
  const pid = tracker.pid!;
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKiB(pid);
  const [cmd, cmdArgs] = pin(0, [process.execPath, '--import', 'tsx', join(ROOT, 'bench', 'ws-load.ts'), `127.0.0.1:${port}`, String(SOCKETS), String(SWARMS), String(DURATION), String(IDLE_MS), OFFERS ? 'offers' : 'plain']);
  const load = spawn(cmd, cmdArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let idle = NaN;
  let cpuAtLoad = NaN;
  let cpuAtEnd = NaN;
  let out = '';
  load.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (Number.isNaN(idle) && out.includes('"phase":"idle"')) setTimeout(() => (idle = rssKiB(pid)), IDLE_MS - 300);
    if (Number.isNaN(cpuAtLoad) && out.includes('"phase":"load"')) cpuAtLoad = cpuSeconds(pid);
    if (Number.isNaN(cpuAtEnd) && out.includes('"rate"')) cpuAtEnd = cpuSeconds(pid);
  });
  await new Promise<void>((resolve) => load.on('exit', () => resolve()));
  tracker.kill('SIGTERM');
  await new Promise<void>((resolve) => tracker.on('exit', () => resolve()));
  const result = JSON.parse(out.trim().split('\n').pop()!) as { rate: number; received: number; relayed_per_s: number; p50_us: number; p99_us: number; errors: number; client_cpu_pct: number };
  return {
    tracker: name,
    round,
    rate: result.rate,
    relayed: result.relayed_per_s,
    p50: result.p50_us,
    p99: result.p99_us,
    errors: result.errors,
    idleBytesPerSocket: Math.round(((idle - before) * 1024) / SOCKETS),
    clientCpu: result.client_cpu_pct,
    // When the load generator is the bound (its CPU near 100 %), the rate says little: CPU per announce still does.
    cpuUsPerAnnounce: Math.round((((cpuAtEnd - cpuAtLoad) * 1e6) / result.received) * 10) / 10,
  };
}

const rows: Row[] = [];
// Below Linux's ephemeral range (32768–60999): the load's 1,000 client sockets of the round before may still hold a port there.
let port = 21_000 + Math.floor(Math.random() * 1000);
for (let round = 1; round <= ROUNDS; round++) {
  for (const name of round % 2 === 1 ? ['wildkat', 'bittorrent-tracker'] : ['bittorrent-tracker', 'wildkat']) {
    rows.push(await measure(name, round, port++));
    const r = rows.at(-1)!;
    process.stdout.write(`${r.tracker.padEnd(20)} round ${r.round}  ${String(r.rate).padStart(7)} announces/s  p50 ${r.p50} µs  p99 ${r.p99} µs  errors ${r.errors}  offers passed on ${r.relayed}/s  idle ${r.idleBytesPerSocket} B/socket  client cpu ${r.clientCpu}%  tracker cpu ${r.cpuUsPerAnnounce} µs/announce\n`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const of = (name: string, f: (r: Row) => number): number[] => rows.filter((r) => r.tracker === name).map(f);
const row = (name: string, round: number): Row => rows.find((r) => r.tracker === name && r.round === round)!;
const rounds = Array.from({ length: ROUNDS }, (_, i) => ({ ours: row('wildkat', i + 1), theirs: row('bittorrent-tracker', i + 1) }));
const ratios = rounds.map(({ ours, theirs }) => ours.rate / theirs.rate);
const cpuRatios = rounds.map(({ ours, theirs }) => theirs.cpuUsPerAnnounce / ours.cpuUsPerAnnounce);
process.stdout.write(
  `\n${SOCKETS} sockets, ${SWARMS} swarms, ${DURATION} s a run, ${ROUNDS} rounds${OFFERS ? ', one offer an announce' : ''}; bittorrent-tracker ${btVersion}\n` +
    `wildkat: ${median(of('wildkat', (r) => r.rate))} announces/s, ${median(of('wildkat', (r) => r.idleBytesPerSocket))} B per idle socket\n` +
    `bittorrent-tracker: ${median(of('bittorrent-tracker', (r) => r.rate))} announces/s, ${median(of('bittorrent-tracker', (r) => r.idleBytesPerSocket))} B per idle socket\n` +
    `wildkat / bittorrent-tracker: ${median(ratios).toFixed(2)}x (${ratios.map((x) => x.toFixed(2)).join(' ')})\n` +
    `tracker CPU per announce, bittorrent-tracker / wildkat: ${median(cpuRatios).toFixed(2)}x (${cpuRatios.map((x) => x.toFixed(2)).join(' ')}; ${median(of('wildkat', (r) => r.cpuUsPerAnnounce))} against ${median(of('bittorrent-tracker', (r) => r.cpuUsPerAnnounce))} µs)\n`,
);
