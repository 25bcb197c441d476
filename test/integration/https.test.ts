/** HTTPS tracker, certificate reload, HTTP→HTTPS redirect, over real TLS sockets. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from '../../src/protocol/bencode.js';
import { percentEncode } from '../../src/protocol/http.js';
import { decodeCompactPeers } from '../../src/protocol/peers.js';
import { ConfigError } from '../../src/runtime/config.js';
import { startTracker } from '../../src/tracker/daemon.js';
import {
  asBytes,
  asDict,
  httpGet,
  httpsGet,
  id20,
  makeCert,
  servedFingerprint,
  startTestTracker,
  waitFor,
  type TestCert,
} from '../helpers.js';

let dir: string;
let certA: TestCert;
let certB: TestCert;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wildkat-tls-'));
  certA = makeCert(dir, 'a');
  certB = makeCert(dir, 'b');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function announcePath(hash: string, peer: string, port: number): string {
  return `/announce?info_hash=${percentEncode(hash)}&peer_id=${percentEncode(peer)}&port=${port}&left=10`;
}

/** A copy of cert A at a path the test may overwrite. */
function liveCertFiles(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}-live.cer`);
  const key = join(dir, `${name}-live.key`);
  copyFileSync(certA.certPath, cert);
  copyFileSync(certA.keyPath, key);
  return { cert, key };
}

function install(from: TestCert, to: { cert: string; key: string }): void {
  copyFileSync(from.certPath, to.cert);
  copyFileSync(from.keyPath, to.key);
}

describe('HTTPS tracker', () => {
  test('announce and scrape over HTTPS share the swarm with HTTP', async () => {
    const t = await startTestTracker({ httpsPort: 0, cert: certA.certPath, key: certA.keyPath });
    try {
      const hash = id20('tls');
      const httpsPort = t.tracker.port('https');
      const first = await httpsGet(httpsPort, announcePath(hash, id20('secure'), 7001), certA.pem);
      assert.equal(first.status, 200);
      const viaHttp = asDict(decode((await httpGet(t.tracker.port('http'), announcePath(hash, id20('plain'), 7002))).body));
      assert.deepEqual(decodeCompactPeers(asBytes(viaHttp.get('peers')), 4), [{ ip: '127.0.0.1', port: 7001 }]);
      const scrape = await httpsGet(httpsPort, `/scrape?info_hash=${percentEncode(hash)}`, certA.pem);
      assert.equal(asDict(asDict(asDict(decode(scrape.body)).get('files')).get(hash)).get('incomplete'), 2);
      assert.equal(t.tracker.stats.activity().periods.today.protocols.https.announces, 1);
      assert.equal(t.tracker.stats.activity().periods.today.protocols.http.announces, 1);
    } finally {
      await t.tracker.close();
    }
  });

  test('reload swaps the certificate for new connections; the swarm survives; a bad PEM keeps the old one', async () => {
    const files = liveCertFiles('reload');
    const t = await startTestTracker({ httpsPort: 0, ...files });
    try {
      const port = t.tracker.port('https');
      const hash = id20('survivor');
      await httpsGet(port, announcePath(hash, id20('p1'), 7001), certA.pem);
      assert.equal(await servedFingerprint(port), certA.fingerprint);

      writeFileSync(files.cert, 'not a certificate\n');
      assert.equal(t.tracker.reloadCertificates(), false);
      assert.ok(t.logs.lines.some((l) => l['msg'] === 'certificate reload failed; keeping the current certificate' && l['level'] === 50));
      assert.equal(await servedFingerprint(port), certA.fingerprint, 'still the old certificate');

      install(certB, files);
      assert.equal(t.tracker.reloadCertificates(), true);
      assert.equal(await servedFingerprint(port), certB.fingerprint);
      const out = await httpsGet(port, `/scrape?info_hash=${percentEncode(hash)}`, certB.pem);
      assert.equal(asDict(asDict(asDict(decode(out.body)).get('files')).get(hash)).get('incomplete'), 1, 'the swarm is intact');
    } finally {
      await t.tracker.close();
    }
  });

  test('a renewed certificate on disk is picked up without a signal', async () => {
    const files = liveCertFiles('watch');
    const t = await startTestTracker({ httpsPort: 0, ...files }, { certWatchIntervalMs: 100 });
    try {
      const port = t.tracker.port('https');
      assert.equal(await servedFingerprint(port), certA.fingerprint);
      install(certB, files);
      await waitFor(async () => (await servedFingerprint(port)) === certB.fingerprint, 8000, 'the renewed certificate');
    } finally {
      await t.tracker.close();
    }
  });

  test('missing or unusable certificate files are refused at start, naming the file', async () => {
    await assert.rejects(
      startTracker({ httpsPort: 0, httpPort: null, udpPort: null, webHttpPort: null, cert: join(dir, 'nope.cer'), key: certA.keyPath }),
      (err: unknown) => err instanceof ConfigError && err.flag === '--cert' && err.message.includes('nope.cer') && err.message.includes('ENOENT'),
    );
    await assert.rejects(
      startTracker({ httpsPort: 0, httpPort: null, udpPort: null, webHttpPort: null, cert: certA.certPath, key: certB.keyPath }),
      (err: unknown) => err instanceof ConfigError && /do not make a usable pair/.test(err.message),
    );
    await assert.rejects(
      startTracker({ httpsPort: 0, udpPort: null, webHttpPort: null }),
      (err: unknown) => err instanceof ConfigError && err.flag === '--cert',
    );
  });
});

describe('HTTP to HTTPS redirect', () => {
  test('--redirect-http sends 301 to https://<domain> with the query bytes exactly as sent', async () => {
    const t = await startTestTracker({ httpsPort: 0, cert: certA.certPath, key: certA.keyPath, redirectHttp: true, domain: 'tracker.example.net:8443' });
    try {
      const raw = `/announce?info_hash=%80%FF%00abc%e9%2B+x&peer_id=${percentEncode(id20('r'))}&port=1`;
      const reply = await httpGet(t.tracker.port('http'), raw);
      assert.equal(reply.status, 301);
      assert.equal(reply.headers['location'], `https://tracker.example.net:8443${raw}`);
      const scrape = await httpGet(t.tracker.port('http'), '/scrape');
      assert.equal(scrape.headers['location'], 'https://tracker.example.net:8443/scrape');
    } finally {
      await t.tracker.close();
    }
  });

  test('--redirect-http needs --https-port', async () => {
    await assert.rejects(startTracker({ redirectHttp: true, webHttpPort: null }), (err: unknown) => err instanceof ConfigError && err.flag === '--redirect-http');
    await assert.rejects(startTracker({ webRedirectHttp: true, webHttpPort: null }), (err: unknown) => err instanceof ConfigError && err.flag === '--web-redirect-http');
  });

  test('--web-redirect-http sends the stats page to its HTTPS port on the domain', async () => {
    const t = await startTestTracker({
      cert: certA.certPath,
      key: certA.keyPath,
      webHttpPort: 0,
      webHttpsPort: 0,
      webRedirectHttp: true,
      domain: 'tracker.example.net:8443',
    });
    try {
      const reply = await httpGet(t.tracker.port('web-http'), '/stats.json?x=1');
      assert.equal(reply.status, 301);
      assert.equal(reply.headers['location'], `https://tracker.example.net:${t.tracker.port('web-https')}/stats.json?x=1`);
      const page = await httpsGet(t.tracker.port('web-https'), '/', certA.pem);
      assert.equal(page.status, 200);
      assert.match(page.body.toString(), /WILD/);
    } finally {
      await t.tracker.close();
    }
  });
});
