/**
 * Two headless Chromium pages with webtorrent's browser bundle exchange a
 * generated 1 MiB file through this tracker alone, over ws:// and over
 * wss:// (the test certificate): page 1 seeds, page 2 downloads by magnet
 * URI, the bytes match, and an HTTP scrape shows the swarm. WebRTC runs
 * on this machine's host candidates: no STUN, TURN or internet.
 *
 * The bundle is webtorrent 3.0.21's dist/webtorrent.min.js. The package
 * cannot be a dev dependency: `npm ci` fails on it (a dependency's
 * preinstall insists on pnpm; another builds a native WebRTC module from a
 * download). So the test takes the published tarball with `npm pack` (no
 * install scripts run), checks it against the registry's pinned sha512, and
 * serves the one file from 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { percentEncode } from '../../src/protocol/http.js';
import { asDict, laneSkip, makeCert, startTestTracker, trackerGet, type TestCert } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const VERSION = '3.0.21';
const INTEGRITY = 'sha512-PFgLphma0dsUWmbWrZ016Cja+j+3D3DXuhk09A5u9qVAzH1T4Vj1VZd8j+zb8sDwPv7NA7+qgPtDEN4iFd6wdw==';
const SIZE = 1024 * 1024;
const skip = laneSkip || (!existsSync(CHROMIUM) && process.env['CI'] === undefined ? `${CHROMIUM} is not installed` : false);

/** webtorrent's browser bundle: from the npm registry's tarball, checked, cached per machine. */
function webtorrentBundle(): Buffer {
  const cache = join(tmpdir(), `wildkat-webtorrent-${VERSION}.min.js`);
  if (existsSync(cache)) return readFileSync(cache);
  const dir = mkdtempSync(join(tmpdir(), 'wildkat-wt-'));
  try {
    execFileSync('npm', ['pack', `webtorrent@${VERSION}`, '--silent', '--pack-destination', dir], { stdio: 'ignore', timeout: 120_000 });
    const tgz = join(dir, `webtorrent-${VERSION}.tgz`);
    const sum = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
    assert.equal(sum, INTEGRITY, 'the tarball is the published one');
    execFileSync('tar', ['-xzf', tgz, '-C', dir, 'package/dist/webtorrent.min.js']);
    const js = readFileSync(join(dir, 'package', 'dist', 'webtorrent.min.js'));
    writeFileSync(cache, js);
    return js;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The file both pages make: deterministic bytes, so the test knows their hash. */
const FILL = '(i) => (i * 31 + (i >>> 9) * 7 + 11) & 255';
const expected = (() => {
  const fill = (i: number): number => (i * 31 + (i >>> 9) * 7 + 11) & 255;
  const bytes = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) bytes[i] = fill(i);
  return createHash('sha256').update(bytes).digest('hex');
})();

const PAGE = `<!doctype html><meta charset="utf-8"><title>wt</title>
<script>
// Every peer connection's ICE servers, to show no STUN or TURN server is asked.
window.iceServersSeen = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (config, ...rest) {
  window.iceServersSeen.push(JSON.stringify((config && config.iceServers) || null));
  return new Native(config, ...rest);
};
window.RTCPeerConnection.prototype = Native.prototype;
Object.setPrototypeOf(window.RTCPeerConnection, Native);
</script>
<script type="module">
import WebTorrent from '/webtorrent.min.js';
globalThis.WEBTORRENT_ANNOUNCE = [];
// No STUN servers (simple-peer's default asks Google's and Twilio's): loopback host candidates only.
const NO_STUN = { iceServers: [] };
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
window.seed = (tracker) => new Promise((resolve, reject) => {
  const fill = ${FILL};
  const bytes = new Uint8Array(${SIZE});
  for (let i = 0; i < bytes.length; i++) bytes[i] = fill(i);
  const client = new WebTorrent({ dht: false, lsd: false, utPex: false, tracker: { rtcConfig: NO_STUN } });
  client.on('error', (e) => reject(String(e)));
  client.seed(new File([bytes], 'wildkat-test.bin'), { announce: [tracker], private: true }, (t) => resolve({ magnet: t.magnetURI, infoHash: t.infoHash }));
});
window.fetchTorrent = (magnet, tracker) => new Promise((resolve, reject) => {
  const client = new WebTorrent({ dht: false, lsd: false, utPex: false, tracker: { rtcConfig: NO_STUN } });
  client.on('error', (e) => reject(String(e)));
  client.add(magnet, { announce: [tracker] }, (t) => {
    t.on('done', async () => {
      const buf = await t.files[0].arrayBuffer();
      resolve({ size: buf.byteLength, sha256: hex(await crypto.subtle.digest('SHA-256', buf)), announce: t.announce });
    });
  });
});
window.ready = true;
</script>`;

describe('WebTorrent in Chromium through this tracker', { skip, timeout: 240_000 }, () => {
  let browser: Browser;
  let pages: Server;
  let pagesPort: number;
  let dir: string;
  let cert: TestCert;

  before(async () => {
    const bundle = webtorrentBundle();
    pages = createServer((req, res) => {
      if (req.url === '/webtorrent.min.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
      else if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', () => resolve()));
    pagesPort = (pages.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), 'wildkat-wt-cert-'));
    mkdirSync(dir, { recursive: true });
    cert = makeCert(dir, 'wt');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      // Host candidates as they are (no mDNS names), loopback allowed: two pages of one machine find each other.
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-features=WebRtcHideLocalIpsWithMdns', '--allow-loopback-in-peer-connection'],
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const scheme of ['ws', 'wss'] as const) {
    test(`a 1 MiB file from one page to the other, by magnet URI, over ${scheme}://`, { timeout: 180_000 }, async () => {
      const secure = scheme === 'wss';
      const t = await startTestTracker(secure ? { httpsPort: 0, cert: cert.certPath, key: cert.keyPath } : {});
      // The browser trusts the test certificate for this context only.
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      try {
        const port = secure ? t.tracker.port('https') : t.httpPort;
        const tracker = `${scheme}://127.0.0.1:${port}/announce`;
        const [seeder, leecher] = [await context.newPage(), await context.newPage()];
        const errors: string[] = [];
        for (const p of [seeder, leecher]) p.on('pageerror', (e) => errors.push(String(e)));
        for (const p of [seeder, leecher]) {
          await p.goto(`http://127.0.0.1:${pagesPort}/`);
          await p.waitForFunction('window.ready === true', undefined, { timeout: 30_000 });
        }
        const seeded = (await seeder.evaluate(`window.seed(${JSON.stringify(tracker)})`)) as { magnet: string; infoHash: string };
        assert.match(seeded.magnet, /^magnet:\?xt=urn:btih:/);
        const got = (await leecher.evaluate(`window.fetchTorrent(${JSON.stringify(seeded.magnet)}, ${JSON.stringify(tracker)})`)) as { size: number; sha256: string; announce: string[] };
        assert.equal(got.size, SIZE);
        assert.equal(got.sha256, expected, 'the bytes match');
        assert.deepEqual(got.announce, [tracker], 'only this tracker');
        // The swarm, as an HTTP scrape sees it: two browser peers.
        const hash = Buffer.from(seeded.infoHash, 'hex').toString('latin1');
        const files = asDict((await trackerGet(t.httpPort, `/scrape?info_hash=${percentEncode(hash)}`)).get('files'));
        const f = asDict(files.get(hash));
        assert.equal((f.get('complete') as number) + (f.get('incomplete') as number), 2, `both pages in the swarm: ${JSON.stringify([...f])}`);
        assert.deepEqual(errors, []);
        for (const p of [seeder, leecher]) {
          const seen = (await p.evaluate('window.iceServersSeen')) as string[];
          assert.ok(seen.length > 0 && seen.every((x) => x === '[]'), `peer connections without ICE servers: ${JSON.stringify(seen)}`);
        }
      } finally {
        await context.close();
        await t.tracker.close();
      }
    });
  }
});
