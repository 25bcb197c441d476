/** Shared test helpers: a tracker on ephemeral ports, HTTP and UDP clients with bounded waits. */
import { createSocket } from 'node:dgram';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ManualClock } from '../src/runtime/clock.js';
import type { TrackerOptions } from '../src/runtime/config.js';
import { ListenError, startTracker, type RunningTracker, type TrackerDeps } from '../src/tracker/daemon.js';
import { decode, type BDict, type BValue } from '../src/protocol/bencode.js';

export const WAIT_MS = 3000;

/** Whether this machine has the IPv6 loopback address (some containers do not). */
/** WILDKAT_LANE=core (CI on its second and third Node version): the real-client and browser tests run on one version only. */
export const laneSkip = process.env['WILDKAT_LANE'] === 'core' ? 'real clients and Chromium run on one Node version (WILDKAT_LANE=core)' : false;

export const hasLoopback6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.address === '::1'));

/** Whether a program is on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Log lines the tracker wrote, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

export interface TestTracker {
  tracker: RunningTracker;
  clock: ManualClock;
  logs: LogCapture;
  httpPort: number;
  udpPort: number;
}

/** Starts the real tracker on free ports (127.0.0.1) with a manual clock. */
export async function startTestTracker(options: Partial<TrackerOptions> = {}, deps: TrackerDeps = {}): Promise<TestTracker> {
  const clock = new ManualClock();
  const logs = new LogCapture();
  const logger = pino({ level: options.verbose ? 'debug' : 'info' }, logs);
  const tracker = await startTracker({ httpPort: 0, udpPort: 0, webHttpPort: null, host: '127.0.0.1', ...options }, { clock, logger, ...deps });
  const has = (p: 'http' | 'udp'): boolean => tracker.listeners.some((l) => l.protocol === p);
  return {
    tracker,
    clock,
    logs,
    httpPort: has('http') ? tracker.port('http', tracker.listeners[0]!.family) : 0,
    udpPort: has('udp') ? tracker.port('udp', tracker.listeners[0]!.family) : 0,
  };
}

/**
 * A random port below Linux's ephemeral range (32768–60999): outgoing
 * connections of other tests never hold it, so a daemon told to listen
 * there (the CLI takes 0 as "disabled", not "any") finds it free unless
 * another test picked the same number.
 */
export function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 12_000);
}

/** Whether nothing holds `port` on `host`, for TCP nor for UDP (bound and let go at once). */
async function portIsFree(host: string, port: number): Promise<boolean> {
  const tcp = createServer();
  const tcpOk = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen({ host, port, exclusive: true }, () => resolve(true));
  });
  if (tcpOk) await new Promise((r) => tcp.close(r));
  if (!tcpOk) return false;
  const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const udpOk = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind({ address: host, port, exclusive: true }, () => resolve(true));
  });
  try {
    udp.close();
  } catch {
    // A failed bind may have closed it already.
  }
  return udpOk;
}

/**
 * A randomPort() free for TCP and UDP on `host` right now, not in `taken`
 * (which it joins): a port another test's daemon or client holds is passed
 * over, where a bare randomPort() fails a test now and then (the suite runs
 * two files at once). Transmission, given a taken port, says nothing and
 * has no UDP socket: its udp:// announces fail for good.
 */
export async function freePort(host: string, taken: Set<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomPort();
    if (taken.has(port) || !(await portIsFree(host, port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error(`no free port on ${host} in 100 tries`);
}

/**
 * The tracker with HTTP and UDP on one port number (as with the default
 * 6969), which `--check` expects. Random ports; a taken one is retried.
 */
export async function startTestTrackerSamePort(options: Partial<TrackerOptions> = {}): Promise<TestTracker> {
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    try {
      return await startTestTracker({ ...options, httpPort: port, udpPort: port });
    } catch (err) {
      if (attempt >= 20 || !(err instanceof ListenError)) throw err;
    }
  }
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends a GET with `send` (http or https request) and collects the whole reply, bounded by WAIT_MS. */
function fetchReply(send: (cb: (res: IncomingMessage) => void) => ClientRequest): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = send((res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${WAIT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  host = '127.0.0.1',
  extra: RequestOptions = {},
): Promise<HttpReply> {
  return fetchReply((cb) => request({ host, port, path, headers, agent: false, timeout: WAIT_MS, ...extra }, cb));
}

/** GETs a tracker path and decodes the bencoded body as a dict. */
export async function trackerGet(port: number, path: string, host = '127.0.0.1'): Promise<BDict> {
  const reply = await httpGet(port, path, {}, host);
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.body.toString()}`);
  return asDict(decode(reply.body));
}

export function asDict(v: BValue | undefined): BDict {
  if (!(v instanceof Map)) throw new Error(`expected a dict, got ${String(v)}`);
  return v;
}

export function asBytes(v: BValue | undefined): Buffer {
  if (!Buffer.isBuffer(v)) throw new Error(`expected a byte string, got ${String(v)}`);
  return v;
}

export function asNumber(v: BValue | undefined): number {
  if (typeof v !== 'number') throw new Error(`expected an integer, got ${String(v)}`);
  return v;
}

/** A 20-byte id as a latin1 string: a readable prefix padded with a tag byte. */
export function id20(tag: string, fill = 0xab): string {
  return Buffer.concat([Buffer.from(tag, 'latin1'), Buffer.alloc(20, fill)]).subarray(0, 20).toString('latin1');
}

/** A UDP client socket with a bounded request/reply helper. */
export class UdpClient {
  private readonly socket;
  private readonly host: string;
  private readonly port: number;
  private readonly queue: Buffer[] = [];
  private waiter: ((b: Buffer) => void) | null = null;

  /** `source` binds the client to that local address (e.g. another 127.x). */
  constructor(port: number, host = '127.0.0.1', source?: string) {
    this.port = port;
    this.host = host;
    this.socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    if (source !== undefined) this.socket.bind({ address: source, port: 0 });
    this.socket.on('message', (msg) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(msg);
      } else this.queue.push(msg);
    });
  }

  send(packet: Buffer): void {
    this.socket.send(packet, this.port, this.host);
  }

  /** Next reply, or an error after `ms`. */
  receive(ms = WAIT_MS): Promise<Buffer> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no UDP reply within ${ms} ms`));
      }, ms);
      this.waiter = (b) => {
        clearTimeout(timer);
        resolve(b);
      };
    });
  }

  /** Resolves true if nothing arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    try {
      await this.receive(ms);
      return false;
    } catch {
      return true;
    }
  }

  async request(packet: Buffer): Promise<Buffer> {
    this.send(packet);
    return this.receive();
  }

  close(): void {
    this.socket.close();
  }
}

export interface TestCert {
  certPath: string;
  keyPath: string;
  pem: Buffer;
  /** SHA-256 fingerprint as X509Certificate and TLS peers report it. */
  fingerprint: string;
}

/**
 * A self-signed certificate for localhost, 127.0.0.1 and ::1, made with the
 * openssl command (node:crypto cannot sign certificates).
 */
export function makeCert(dir: string, name: string): TestCert {
  const certPath = join(dir, `${name}.cer`);
  const keyPath = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', '-keyout', keyPath, '-out', certPath],
    { stdio: 'ignore', timeout: 20_000 },
  );
  const pem = readFileSync(certPath);
  return { certPath, keyPath, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** The SHA-256 fingerprint of the certificate a TLS server presents now. */
export function servedFingerprint(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, servername: 'localhost', rejectUnauthorized: false, timeout: WAIT_MS }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

/** GET over HTTPS trusting exactly `ca`. */
export function httpsGet(port: number, path: string, ca: Buffer, host = '127.0.0.1'): Promise<HttpReply> {
  return fetchReply((cb) => httpsRequest({ host, port, path, ca, servername: 'localhost', agent: false, timeout: WAIT_MS }, cb));
}

/** Polls `check` every 50 ms until it returns true or `ms` pass. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms = WAIT_MS, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A small deterministic PRNG (mulberry32): the same cases every run. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
