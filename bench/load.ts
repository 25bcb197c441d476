/**
 * Load generator for `npm run bench`, run as its own process (ideally on
 * another core): BEP 15 announces/scrapes through the project's codec, or
 * HTTP keep-alive announces. Prints one JSON line of results.
 *
 *   node --import tsx bench/load.ts udp  HOST:PORT MODE(fill|announce|scrape) TORRENTS PEERS SECONDS
 *   node --import tsx bench/load.ts http HOST:PORT announce TORRENTS PEERS SECONDS CONNECTIONS
 */
import { createSocket, type Socket } from 'node:dgram';
import { Agent, request } from 'node:http';
import { percentEncode } from '../src/protocol/http.js';
import { peerOf, poolHash } from './pool.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from '../src/protocol/udp.js';

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function udp(host: string, port: number, mode: string, torrents: number, peers: number, seconds: number): Promise<void> {
  const hashes = Array.from({ length: torrents }, (_, i) => poolHash(i).toString('latin1'));
  const SOCKETS = 4;
  const WINDOW = 32;
  const deadline = Date.now() + seconds * 1000;
  let fillNext = 0;
  const total = torrents * peers;
  let sent = 0;
  let received = 0;
  let errors = 0;
  let lost = 0;
  let peersReturned = 0;
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();

  const runSocket = (): Promise<void> =>
    new Promise((resolve) => {
      const socket: Socket = createSocket('udp4');
      let connectionId: Buffer | null = null;
      let tx = Math.floor(Math.random() * 1e9);
      const pending = new Map<number, bigint>();
      let finished = false;
      const nextPacket = (): Buffer | null => {
        if (connectionId === null) return null;
        tx = (tx + 1) >>> 0;
        if (mode === 'scrape') return encodeScrapeRequest(connectionId, tx, [hashes[Math.floor(Math.random() * torrents)]!]);
        let pair: number;
        if (mode === 'fill') {
          if (fillNext >= total) return null;
          pair = fillNext++;
        } else pair = Math.floor(Math.random() * total);
        const t = Math.floor(pair / peers);
        const p = pair % peers;
        const { peerId, port: peerPort } = peerOf(pair);
        return encodeAnnounceRequest({
          connectionId,
          transactionId: tx,
          key: pair >>> 0,
          announce: { infoHash: hashes[t]!, peerId, port: peerPort, uploaded: 0, downloaded: 0, left: p % 4 === 0 ? 0 : 1_000_000, event: mode === 'fill' ? 'started' : 'none', numwant: 50 },
        });
      };
      const send = (): void => {
        if (finished) return;
        if (Date.now() > deadline) return done();
        const packet = nextPacket();
        if (packet === null) {
          if (pending.size === 0) done();
          return;
        }
        pending.set(tx, process.hrtime.bigint());
        sent++;
        socket.send(packet, port, host);
      };
      const done = (): void => {
        if (finished) return;
        finished = true;
        clearInterval(sweep);
        socket.close();
        resolve();
      };
      // Requests unanswered after a second are lost; their slots are reused.
      const sweep = setInterval(() => {
        const now = process.hrtime.bigint();
        for (const [id, at] of pending) {
          if (now - at > 1_000_000_000n) {
            pending.delete(id);
            lost++;
            send();
          }
        }
        if (Date.now() > deadline + 1500) done();
      }, 200);
      socket.on('message', (msg) => {
        const r = decodeResponse(msg);
        if (r.action === 'connect') {
          connectionId = r.connectionId;
          for (let i = 0; i < WINDOW; i++) send();
          return;
        }
        const at = pending.get(r.transactionId);
        if (at === undefined) return;
        pending.delete(r.transactionId);
        latencies.push(Number(process.hrtime.bigint() - at) / 1000);
        received++;
        if (r.action === 'error') errors++;
        if (r.action === 'announce') peersReturned += r.peers.length / 6;
        send();
      });
      socket.send(encodeConnectRequest(1), port, host);
    });
  await Promise.all(Array.from({ length: SOCKETS }, runSocket));
  report(t0, cpu0, { sent, received, errors, lost, peers_avg: received > 0 ? peersReturned / received : 0 }, latencies);
}

function report(t0: bigint, cpu0: NodeJS.CpuUsage, counts: Record<string, number>, latencies: number[]): void {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      ...counts,
      seconds,
      rate: Math.round((counts['received']! - (counts['errors'] ?? 0)) / seconds),
      p50_us: Math.round(percentile(latencies, 0.5)),
      p99_us: Math.round(percentile(latencies, 0.99)),
      client_cpu_pct: Math.round((100 * (cpu.user + cpu.system)) / 1e6 / seconds),
    }),
  );
}

async function http(host: string, port: number, torrents: number, peers: number, seconds: number, connections: number): Promise<void> {
  const hashes = Array.from({ length: torrents }, (_, i) => percentEncode(poolHash(i)));
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const deadline = Date.now() + seconds * 1000;
  let received = 0;
  let errors = 0;
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const pair = Math.floor(Math.random() * torrents * peers);
      const { peerId, port: peerPort } = peerOf(pair);
      const path = `/announce?info_hash=${hashes[Math.floor(pair / peers)]}&peer_id=${percentEncode(peerId)}&port=${peerPort}&uploaded=0&downloaded=0&left=${pair % 4 === 0 ? 0 : 1_000_000}&compact=1&numwant=50`;
      const at = process.hrtime.bigint();
      const req = request({ host, port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - at) / 1000);
          if (res.statusCode === 200) received++;
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) await one();
    }),
  );
  agent.destroy();
  report(t0, cpu0, { received, errors }, latencies);
}

const [kind, target, mode, torrents, peers, seconds, connections] = process.argv.slice(2);
const [host, port] = [target!.slice(0, target!.lastIndexOf(':')), Number(target!.slice(target!.lastIndexOf(':') + 1))];
if (kind === 'udp') await udp(host, port, mode!, Number(torrents), Number(peers), Number(seconds));
else await http(host, port, Number(torrents), Number(peers), Number(seconds), Number(connections ?? 64));
