/**
 * `npm run bench`: starts the tracker, loads it from a separate process
 * (bench/load.ts: UDP through the project's codec, HTTP keep-alive), and
 * prints announces/s and scrapes/s per protocol, p50/p99 latency, RSS,
 * bytes per peer and the worst event-loop delay; then the TTL sweeper's
 * worst slice with 1,000,000 peers expiring.
 *
 *   npm run bench                       # ours
 *   npm run bench -- --vs opentracker   # and Debian's opentracker, same load, same run: ratios
 *   npm run bench -- --duration 5 --settings 1000x50
 *   npm run bench -- --store redis      # also on Redis (its own redis-server), 1 and 2 workers: ratios to memory
 *   npm run bench -- --store redis --redis-cpu 1,0   # Redis on the tracker's core, and on the load's
 *   npm run bench -- --access-list 1000000   # also with an allow list of that many hashes: its per-announce cost,
 *                                            # and the list's load time and memory
 *
 * The tracker is pinned to CPU 1 and the load to CPU 0 when taskset exists.
 * For figures to compare with other trackers use ../shared/bench/run.sh
 * (a C load generator): a Node generator is slower than opentracker.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessListFile } from '../src/service/access-list-file.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { CHUNK, Sweeper } from '../src/store/sweeper.js';
import { pino } from 'pino';
import { poolHash } from './pool.js';
import { arg, flag, pin } from './common.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DURATION = Number(arg('--duration', '10'));
const SETTINGS = arg('--settings', '1000x50,100000x5').split(',');
const VS = arg('--vs', '');
/** `--store redis`: the memory store against Redis with 1 and 2 workers, each with a redis-server of its own. */
const STORE = arg('--store', 'memory');
/** `--redis-cpu 1,0`: where each Redis tracker's redis-server runs (1: the tracker's core; 0: the load's). */
const REDIS_CPUS = arg('--redis-cpu', '1').split(',').map(Number);
/** `--access-list N`: one more tracker, with an allow list of N hashes (the pool's among them). */
const ACCESS_LIST = Number(arg('--access-list', '0'));
/** Rounds of every test against every tracker, interleaved. */
const ROUNDS = Number(arg('--rounds', '3'));
/** Torrents of 5 peers in the sweeper test (plus one swarm of 100,000): 200,000 is 1.1M expiring peers. */
const SWEEP_TORRENTS = Number(arg('--sweep-torrents', '200000'));

interface LoadResult {
  rate: number;
  p50_us: number;
  p99_us: number;
  errors: number;
  lost?: number;
  client_cpu_pct: number;
  peers_avg?: number;
}

function load(kind: 'udp' | 'http', port: number, mode: string, torrents: number, peers: number, seconds: number): LoadResult {
  const [cmd, cmdArgs] = pin(0, [process.execPath, '--import', 'tsx', join(ROOT, 'bench/load.ts'), kind, `127.0.0.1:${port}`, mode, String(torrents), String(peers), String(seconds), '64']);
  const r = spawnSync(cmd, cmdArgs, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: (seconds + 90) * 1000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`the load generator failed (${kind} ${mode}): ${r.stderr || r.error?.message || 'no output'}`);
  return JSON.parse(line) as LoadResult;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function waitUdp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = load('udp', port, 'scrape', 1, 1, 0.2);
    if (r.rate > 0 || r.errors > 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the tracker did not answer UDP');
}

interface Row {
  tracker: string;
  setting: string;
  round: number;
  test: string;
  rate: number;
  p50: number;
  p99: number;
  errors: string;
  serverCpu: number;
  rss: number;
  note: string;
}

interface Running {
  name: string;
  child: ChildProcess;
  udpPort: number;
  httpPort: number;
  webPort: number;
  /** The redis-server of a Redis tracker, and its port. */
  redis?: { child: ChildProcess; port: number };
}

/** `used_memory` of a redis-server, bytes (redis-cli comes with Debian's redis-server). */
function redisMemory(port: number): number {
  const r = spawnSync('redis-cli', ['-p', String(port), 'info', 'memory'], { encoding: 'utf8', timeout: 5000 });
  const m = /used_memory:(\d+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : NaN;
}

async function waitRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`redis-server on port ${port} did not start`);
}

/** The tracker's processes (a --workers primary and its workers) and its redis-server, for CPU use. */
function processTree(t: Running): number[] {
  const children = spawnSync('pgrep', ['-P', String(t.child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '').map(Number);
  return [t.child.pid!, ...children, ...(t.redis?.child.pid !== undefined ? [t.redis.child.pid] : [])];
}

function treeTicks(t: Running): number {
  let n = 0;
  for (const pid of processTree(t)) {
    try {
      n += cpuTicks(pid);
    } catch {
      // a process that is gone
    }
  }
  return n;
}

let nextPort = 30000 + Math.floor(Math.random() * 2000);

/** An allow list of `total` hashes: the pool's `torrents`, then made-up ones. Returns its path. */
function writeAllowList(dir: string, torrents: number, total: number): string {
  const path = join(dir, `allow-${torrents}-${total}.txt`);
  const lines: string[] = [];
  for (let i = 0; i < Math.max(total, torrents); i++) lines.push((i < torrents ? poolHash(i) : poolHash(10_000_000 + i)).toString('hex'));
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Loading an allow list of `total` hashes: time, and the heap and RSS it keeps. */
function accessListCost(dir: string, total: number): string {
  const path = writeAllowList(dir, 0, total);
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const buffers0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  const file = new AccessListFile(path, 'allow', pino({ level: 'silent' }));
  const ms = performance.now() - t0;
  global.gc?.();
  const mem = process.memoryUsage();
  const mib = (b: number): string => (b / 1048576).toFixed(1);
  return `access list: ${file.current.size.toLocaleString('en-US')} hashes loaded in ${ms.toFixed(0)} ms; kept: table ${mib(file.current.bytes)} MiB, heap +${mib(mem.heapUsed - heap0)} MiB, array buffers +${mib(mem.arrayBuffers - buffers0)} MiB`;
}

/** Starts a tracker pinned to CPU 1: wildkat, null (bench/null-tracker.ts) or opentracker. */
function start(name: string, torrents: number, dir: string): Running {
  const [udpPort, httpPort, webPort] = [nextPort, nextPort + 1, nextPort + 2];
  nextPort += 3;
  let argv: string[];
  let redis: Running['redis'];
  const wildkat = [join(ROOT, 'bin/wildkat-tracker'), '--host', '127.0.0.1', '--udp-port', String(udpPort), '--http-port', String(httpPort), '--web-http-port', String(webPort), '--max-torrents', String(torrents * 2)];
  if (name === 'wildkat') {
    argv = wildkat;
  } else if (name === 'wildkat-acl') {
    argv = [...wildkat, '--allow-list', writeAllowList(dir, torrents, ACCESS_LIST)];
  } else if (name.startsWith('redis-')) {
    // By default Redis on the tracker's core too: the same one-core budget as the memory store.
    const [, workers, redisCpu] = /^redis-(\d+)(?:@cpu(\d+))?$/.exec(name)!;
    const port = nextPort++;
    const [rcmd, rargs] = pin(Number(redisCpu ?? 1), ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    redis = { child: spawn(rcmd, rargs, { stdio: 'ignore' }), port };
    argv = [...wildkat, '--store', `redis://127.0.0.1:${port}`, '--workers', workers!];
  } else if (name === 'null') {
    argv = [process.execPath, '--import', 'tsx', join(ROOT, 'bench/null-tracker.ts'), String(udpPort), String(httpPort)];
  } else {
    // Debian builds opentracker with a whitelist: list the pool.
    // As root it chroots into -d and drops to nobody: the whitelist path is then inside the chroot.
    writeFileSync(join(dir, 'whitelist.txt'), Array.from({ length: torrents }, (_, i) => poolHash(i).toString('hex')).join('\n') + '\n', { mode: 0o644 });
    chmodSync(dir, 0o755);
    const whitelist = process.getuid?.() === 0 ? '/whitelist.txt' : join(dir, 'whitelist.txt');
    argv = ['opentracker', '-i', '127.0.0.1', '-p', String(httpPort), '-P', String(udpPort), '-d', dir, '-w', whitelist];
  }
  const [cmd, cmdArgs] = pin(1, argv);
  return { name, child: spawn(cmd, cmdArgs, { stdio: 'ignore', cwd: ROOT }), udpPort, httpPort, webPort, ...(redis !== undefined && { redis }) };
}

const TESTS: [string, (t: Running, torrents: number, peers: number) => LoadResult][] = [
  ['udp_announce', (t, n, p) => load('udp', t.udpPort, 'announce', n, p, DURATION)],
  ['udp_scrape', (t, n, p) => load('udp', t.udpPort, 'scrape', n, p, DURATION)],
  ['http_announce', (t, n, p) => load('http', t.httpPort, 'announce', n, p, DURATION)],
];

/**
 * One setting: every tracker running at once (idle ones cost nothing), each
 * filled, then ROUNDS rounds in which every test runs against each tracker in
 * turn, seconds apart: the machine's drift hits them alike.
 */
async function measure(names: readonly string[], setting: string, dir: string): Promise<Row[]> {
  const [torrents, peers] = setting.split('x').map(Number) as [number, number];
  const running = names.map((n) => start(n, torrents, dir));
  const rows: Row[] = [];
  const run = (t: Running, round: number, test: string, f: () => LoadResult): void => {
    const c0 = treeTicks(t);
    const t0 = Date.now();
    const r = f();
    const cpu = ((treeTicks(t) - c0) / 100 / ((Date.now() - t0) / 1000)) * 100;
    rows.push({ tracker: t.name, setting, round, test, rate: r.rate, p50: r.p50_us, p99: r.p99_us, errors: `${r.errors}/${r.lost ?? 0}`, serverCpu: Math.round(cpu), rss: rssMiB(t.child.pid!), note: `client ${r.client_cpu_pct}%` });
  };
  try {
    for (const t of running) {
      if (t.redis !== undefined) await waitRedis(t.redis.port);
      await waitUdp(t.udpPort);
      const idle = rssMiB(t.child.pid!);
      const redisIdle = t.redis !== undefined ? redisMemory(t.redis.port) : 0;
      run(t, 0, 'udp_fill', () => load('udp', t.udpPort, 'fill', torrents, peers, 120));
      rows.at(-1)!.note += `; ${Math.round(((rssMiB(t.child.pid!) - idle) * 1048576) / (torrents * peers))} B/peer incl. torrents`;
      if (t.redis !== undefined) rows.at(-1)!.note += `; redis ${Math.round((redisMemory(t.redis.port) - redisIdle) / (torrents * peers))} B/peer (used_memory)`;
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [test, f] of TESTS) for (const t of running) run(t, round, test, () => f(t, torrents, peers));
    }
    const wildkat = running.find((t) => t.name === 'wildkat');
    if (wildkat !== undefined) {
      const stats = (await (await fetch(`http://127.0.0.1:${wildkat.webPort}/stats.json`)).json()) as { tracker: { event_loop_delay_max_ms: number; event_loop_delay_p99_ms: number } };
      rows.filter((r) => r.tracker === 'wildkat').at(-1)!.note += `; event loop p99 ${stats.tracker.event_loop_delay_p99_ms} ms, max ${stats.tracker.event_loop_delay_max_ms} ms`;
    }
  } finally {
    for (const t of running) {
      t.child.kill('SIGTERM');
      t.redis?.child.kill('SIGTERM');
    }
  }
  return rows;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length === 0 ? NaN : v[Math.floor((v.length - 1) / 2)]!;
}

/** The sweeper's worst slice while 1,000,000 peers expire: that is its event-loop stall. */
function sweeperStall(): string {
  const store = new MemoryStore({ peerTtl: 3600 });
  const now = 1_800_000_000;
  for (let t = 0; t < SWEEP_TORRENTS; t++) {
    const infoHash = poolHash(t).toString('latin1');
    for (let p = 0; p < 5; p++) {
      const addr = String.fromCharCode(10, (t >> 8) & 255, t & 255, p, 0x1a, 0xe1);
      store.announce({ infoHash, peerId: `${t}-${p}`.padEnd(20, '.'), addr, seeder: p === 0, event: 'started', numwant: 0 }, now - (t % 3000));
    }
  }
  // One huge swarm too: a mass expiry inside one torrent.
  for (let p = 0; p < 100_000; p++) {
    store.announce({ infoHash: 'huge'.padEnd(20, '.'), peerId: `h${p}`.padEnd(20, '.'), addr: String.fromCharCode(11, p >> 16, (p >> 8) & 255, p & 255, 0x1a, 0xe1), seeder: false, event: 'started', numwant: 0 }, now);
  }
  const later = now + 3600 + 1;
  // Warm the expiry code up first, as a running daemon has (a cold first call is JIT time, not a stall of the store).
  const warm = new MemoryStore({ peerTtl: 10 });
  for (let i = 0; i < 20_000; i++) warm.announce({ infoHash: `w${i % 4000}`.padEnd(20, '.'), peerId: `w${i}`.padEnd(20, '.'), addr: String.fromCharCode(12, i >> 16, (i >> 8) & 255, i & 255, 0x1a, 0xe1), seeder: i % 5 === 0, event: 'started', numwant: 0 }, now);
  while (!warm.sweep(now + 11, 2000).passDone);
  // The daemon's adaptive sweeper, its timer driven by hand: slices plus the pauses it asks for.
  let removed = 0;
  let slices = 0;
  let pausedMs = 0;
  let next: (() => void) | null = null;
  const counting = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'sweep') return Reflect.get(target, prop, receiver) as unknown;
      return (n: number, budget: number) => {
        const r = target.sweep(n, budget);
        removed += r.removed;
        return r;
      };
    },
  });
  const clock = { now: () => later };
  const sweeper = new Sweeper({ store: counting, clock, logger: pino({ level: 'silent' }), schedule: (fn, ms) => { slices++; pausedMs += ms; next = fn; return { cancel: () => (next = null) }; } });
  sweeper.start();
  const t0 = process.hrtime.bigint();
  const expiring = SWEEP_TORRENTS * 5 + 100_000;
  while (removed < expiring && slices < 100_000 && next !== null) (next as () => void)();
  const total = Number(process.hrtime.bigint() - t0) / 1e6;
  return `sweeper: ${removed.toLocaleString('en-US')} expired peers (${(SWEEP_TORRENTS * 5).toLocaleString('en-US')} in ${SWEEP_TORRENTS.toLocaleString('en-US')} torrents + one swarm of 100,000) purged in ${slices} time-bounded slices (chunks of ${CHUNK} units); worst slice ${sweeper.worstSliceMs.toFixed(1)} ms, average ${(total / slices).toFixed(2)} ms; ${((total + pausedMs) / 1000).toFixed(1)} s in the daemon with its pauses`;
}

const dir = mkdtempSync(join(tmpdir(), 'wildkat-bench-'));
if (flag('--access-list-only')) {
  console.log(accessListCost(dir, ACCESS_LIST || 1_000_000));
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
if (flag('--sweeper-only')) {
  console.log(sweeperStall());
  process.exit(0);
}
try {
  const trackers = ['wildkat', ...(STORE === 'redis' ? REDIS_CPUS.flatMap((c) => ['redis-1', 'redis-2'].map((n) => (c === 1 ? n : `${n}@cpu${c}`))) : []), ...(ACCESS_LIST > 0 ? ['wildkat-acl'] : []), ...VS.split(',').filter((v) => v !== '')];
  const rows: Row[] = [];
  for (const setting of SETTINGS) rows.push(...(await measure(trackers, setting, dir)));
  const header = ['tracker', 'setting', 'round', 'test', 'rate/s', 'p50 µs', 'p99 µs', 'err/lost', 'srv cpu%', 'rss MiB', 'notes'];
  const table = rows.map((r) => [r.tracker, r.setting, String(r.round), r.test, String(r.rate), String(r.p50), String(r.p99), r.errors, String(r.serverCpu), r.rss.toFixed(1), r.note]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 4 || i === 10 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  for (const other of trackers.slice(1)) {
    // A Redis build is the one measured against the memory store; another tracker is measured against ours.
    const [top, bottom] = other.startsWith('redis-') || other === 'wildkat-acl' ? [other, 'wildkat'] : ['wildkat', other];
    console.log(`\n${top} / ${bottom}: median of the per-round ratios (rounds in brackets)`);
    for (const setting of SETTINGS) {
      for (const [test] of TESTS) {
        const ratios: number[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          const ours = rows.find((r) => r.tracker === top && r.setting === setting && r.test === test && r.round === round);
          const theirs = rows.find((r) => r.tracker === bottom && r.setting === setting && r.test === test && r.round === round);
          // opentracker closes every HTTP connection: a keep-alive client mostly gets resets, no figure to compare.
          if (ours === undefined || theirs === undefined || theirs.rate === 0 || Number(theirs.errors.split('/')[0]) > theirs.rate) continue;
          ratios.push(ours.rate / theirs.rate);
        }
        const shown = ratios.length === 0 ? 'n/a' : `${median(ratios).toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(' ')})`;
        console.log(`  ${setting} ${test}: ${shown}`);
      }
    }
  }
  if (ACCESS_LIST > 0) console.log(`\n${accessListCost(dir, ACCESS_LIST)}`);
  console.log(`\n${sweeperStall()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
