/**
 * Debian's opentracker (whitelist compiled in) for wildkat-query's tests:
 * random free ports on 127.0.0.1, a whitelist the test chooses, stopped
 * by PID. As root opentracker chroots into -d DIR and drops to nobody, so
 * the whitelist path it is given is then relative to that chroot (as in
 * bench/bench.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, randomPort } from './helpers.js';

export const hasOpentracker = hasCommand('opentracker');

/** Skip (with the reason) when opentracker is missing, except on CI, which installs it: there the tests must run. */
export const opentrackerSkip: string | false =
  hasOpentracker || process.env['CI'] !== undefined ? false : 'opentracker is not installed (apt install opentracker; CI installs it)';

export interface Opentracker {
  child: ChildProcess;
  httpPort: number;
  udpPort: number;
  stop(): Promise<void>;
}

const READY_MS = 10_000;

/** One UDP connect request; true if a 16-byte connect reply comes back within `ms`. */
function udpAnswers(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on('error', () => done(false));
    socket.on('message', (msg) => done(msg.length >= 16 && msg.readUInt32BE(0) === 0));
    const packet = Buffer.alloc(16);
    packet.writeBigUInt64BE(0x41727101980n, 0);
    packet.writeUInt32BE(0, 8);
    packet.writeUInt32BE(0x1234, 12);
    socket.connect(port, '127.0.0.1', () => socket.send(packet));
  });
}

/** True if an HTTP GET of /scrape gets any status back within `ms`. */
function httpAnswers(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/scrape', agent: false, timeout: ms }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits (bounded) for the child to exit after a signal; SIGKILL if it does not. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000).unref());
  if ((await Promise.race([gone.then(() => true), timer])) === false && !exited(child)) {
    child.kill('SIGKILL');
    await gone;
  }
}

/** Starts opentracker with `whitelist` (40-hex info_hashes) on free random ports; retries if a port was taken. */
export async function startOpentracker(whitelist: readonly string[]): Promise<Opentracker> {
  const dir = mkdtempSync(join(tmpdir(), 'wildkat-opentracker-'));
  writeFileSync(join(dir, 'whitelist.txt'), whitelist.map((h) => h.toLowerCase()).join('\n') + '\n', { mode: 0o644 });
  chmodSync(dir, 0o755);
  const listPath = process.getuid?.() === 0 ? '/whitelist.txt' : join(dir, 'whitelist.txt');
  let lastError = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const httpPort = randomPort();
    const udpPort = randomPort();
    if (httpPort === udpPort) continue;
    const child = spawn('opentracker', ['-i', '127.0.0.1', '-p', String(httpPort), '-P', String(udpPort), '-d', dir, '-w', listPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    let spawnError: NodeJS.ErrnoException | null = null;
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      stderr += String(err);
    });
    const deadline = Date.now() + READY_MS;
    let ready = false;
    while (!exited(child) && Date.now() < deadline) {
      if ((await udpAnswers(udpPort, 200)) && (await httpAnswers(httpPort, 500))) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // A port held by another server could have answered the probe: opentracker, failing to bind, exits at once.
    if (ready) await new Promise((r) => setTimeout(r, 200));
    if (ready && !exited(child)) {
      return {
        child,
        httpPort,
        udpPort,
        stop: async () => {
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = `exit ${child.exitCode ?? child.signalCode ?? 'none'}: ${stderr.trim()}`;
    await stopChild(child);
    if ((spawnError as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
      rmSync(dir, { recursive: true, force: true });
      throw new Error('opentracker is not on PATH: CI must install it (Debian: apt install opentracker)');
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`opentracker did not start on 127.0.0.1 within ${READY_MS} ms (10 attempts); last: ${lastError}`);
}
