/**
 * Real clients end to end: a real client seeds a random file through our
 * tracker, a different real client downloads it; the download must be
 * byte-identical and a scrape must show the swarm (complete ≥ 2,
 * downloaded ≥ 1). The transfer itself: transfer.ts.
 */
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { startTracker } from '../../src/tracker/daemon.js';
import { aria2, qbittorrent, transmission } from './real-clients.js';
import { hasLoopback6, LogCapture } from '../helpers.js';
import { describeTraffic } from './tracker-traffic.js';
import { clientsSkip, transfer, TRANSFER_TIMEOUT_MS, type TransferCase } from './transfer.js';

interface Case extends TransferCase {
  transport: 'http' | 'udp';
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

describe('real BitTorrent clients through wildkat-tracker', { skip: clientsSkip, concurrency: 1 }, () => {
  for (const c of CASES) {
    test(c.name, { skip: c.family === 6 && !hasLoopback6 ? 'no ::1 on this machine' : false, timeout: TRANSFER_TIMEOUT_MS }, async () => {
      const host = c.family === 4 ? '127.0.0.1' : '::1';
      const urlHost = c.family === 4 ? host : `[${host}]`;
      // Short intervals so that clients re-announce (and learn of each other) quickly.
      // Verbose: every request logged, for the message of a transfer that fails.
      const logs = new LogCapture();
      const tracker = await startTracker(
        { host, httpPort: 0, udpPort: 0, webHttpPort: null, interval: 10, minInterval: 2, verbose: true },
        { logger: pino({ level: 'debug' }, logs) },
      );
      try {
        const url = `${c.transport}://${urlHost}:${tracker.port(c.transport, c.family)}/announce`;
        await transfer(c, { seederUrl: url, leecherUrl: url, scrapePort: tracker.port('http', c.family), traffic: (since) => describeTraffic([['tracker', logs.lines]], since) });
      } finally {
        await tracker.close();
      }
    });
  }
});
