/**
 * The two WebSocket trackers `npm run bench:ws` measures, each as its own
 * process on 127.0.0.1:PORT:
 *   node --import tsx bench/ws-trackers.ts wildkat PORT
 *   node --import tsx bench/ws-trackers.ts bittorrent-tracker PORT BT_DIR
 * Wildkat with its per-socket message rate raised (a load generator is not
 * a browser: it sends as fast as replies come); bittorrent-tracker has none.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { startTracker } from '../src/tracker/daemon.js';

const [name, portText, btDir] = process.argv.slice(2);
const port = Number(portText);

interface BtServer {
  on(event: string, f: (err: Error) => void): void;
  listen(port: number, host: string, cb: () => void): void;
  close(cb: () => void): void;
}

if (name === 'wildkat') {
  const tracker = await startTracker(
    { host: '127.0.0.1', httpPort: port, udpPort: null, webHttpPort: null },
    { logger: pino({ level: 'warn' }), wsLimits: { messagesPerSecond: 1e9, burst: 1e9, maxSwarms: 1000 } },
  );
  process.on('SIGTERM', () => void tracker.close().then(() => process.exit(0)));
  process.stdout.write('ready\n');
} else {
  // server.js directly: index.js also loads the client, whose WebRTC dependency needs a native build.
  const entry = pathToFileURL(join(btDir ?? '', 'node_modules', 'bittorrent-tracker', 'server.js')).href;
  const { default: Server } = (await import(entry)) as { default: new (o: Record<string, unknown>) => BtServer };
  const server = new Server({ http: true, udp: false, ws: true, stats: false, trustProxy: false });
  server.on('warning', () => undefined);
  let ready = false;
  // Before it listens, an error (the port taken) ends the run with a reason instead of a silent wait.
  server.on('error', (err) => {
    if (ready) return;
    process.stderr.write(`bittorrent-tracker: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    ready = true;
    process.stdout.write('ready\n');
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
