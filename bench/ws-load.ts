/**
 * WebSocket load for `npm run bench:ws`: SOCKETS connections to ws://HOST:PORT/announce,
 * each a peer of one of SWARMS swarms; each announces once (started), then
 * the run prints {"phase":"idle"} and waits IDLE_MS (the runner reads the
 * tracker's memory), then every socket re-announces (no offers) as fast as
 * its replies come for SECONDS; prints one JSON line of results.
 *
 *   node --import tsx bench/ws-load.ts HOST:PORT SOCKETS SWARMS SECONDS IDLE_MS [offers]
 *
 * With `offers`, every re-announce carries one offer (a small SDP), which the
 * tracker passes to another peer of the swarm: counted apart from replies.
 */
import { WebSocket } from 'ws';

const [target, socketsText, swarmsText, secondsText, idleText, mode] = process.argv.slice(2);
const OFFERS = mode === 'offers';
const SOCKETS = Number(socketsText);
const SWARMS = Number(swarmsText);
const SECONDS = Number(secondsText);
const IDLE_MS = Number(idleText);

const id = (prefix: string, i: number): string => `${prefix}${i}`.padEnd(20, '.').slice(0, 20);

function open(i: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${target}/announce`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    void i;
  });
}

let offerSeq = 0;
const SDP = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n' };
const announce = (i: number, event: string): string =>
  JSON.stringify({
    action: 'announce',
    info_hash: id('swarm-', i % SWARMS),
    peer_id: id('peer-', i),
    uploaded: 0,
    downloaded: 0,
    left: i % 5 === 0 ? 0 : 1000,
    event,
    numwant: OFFERS && event === '' ? 1 : 0,
    offers: OFFERS && event === '' ? [{ offer: SDP, offer_id: id('o', offerSeq++) }] : [],
  });

const sockets: WebSocket[] = [];
for (let i = 0; i < SOCKETS; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, SOCKETS - i) }, (_, k) => open(i + k)))));
// Join: one announce each, answered.
await Promise.all(
  sockets.map(
    (ws, i) =>
      new Promise<void>((resolve) => {
        ws.once('message', () => resolve());
        ws.send(announce(i, 'started'));
      }),
  ),
);
process.stdout.write(JSON.stringify({ phase: 'idle' }) + '\n');
await new Promise((r) => setTimeout(r, IDLE_MS));

let received = 0;
let relayed = 0;
let errors = 0;
const latencies: number[] = [];
// The runner reads the tracker's CPU time from here to the result line.
process.stdout.write(JSON.stringify({ phase: 'load' }) + '\n');
const deadline = performance.now() + SECONDS * 1000;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(
  sockets.map(
    (ws, i) =>
      new Promise<void>((resolve) => {
        let sent = 0;
        const next = (): void => {
          if (performance.now() >= deadline) {
            resolve();
            return;
          }
          sent = performance.now();
          ws.send(announce(i, ''));
        };
        ws.on('message', (data) => {
          const m = JSON.parse(data.toString()) as Record<string, unknown>;
          // An offer passed on from another peer: not this socket's reply.
          if (m['offer'] !== undefined) {
            relayed++;
            return;
          }
          if (m['failure reason'] !== undefined) errors++;
          received++;
          if ((received & 15) === 0) latencies.push(performance.now() - sent);
          next();
        });
        ws.on('close', () => resolve());
        next();
      }),
  ),
);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
const pct = (q: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 1000);
process.stdout.write(
  JSON.stringify({ rate: Math.round(received / seconds), relayed_per_s: Math.round(relayed / seconds), received, errors, p50_us: pct(0.5), p99_us: pct(0.99), client_cpu_pct: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) }) + '\n',
);
for (const ws of sockets) ws.terminate();
