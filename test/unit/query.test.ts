import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkOutput } from '../../src/cli/query.js';
import { decodeRequest, encodeConnectResponse } from '../../src/protocol/udp.js';
import { parseBatchFile } from '../../src/query/batch.js';
import { errnoText, networkError, refusesInfoHash, UsageError } from '../../src/query/errors.js';
import { colourWanted, grade, numwantCheck, painter } from '../../src/query/format.js';
import { qbittorrent, randomQbittorrent, QBITTORRENT_VERSIONS } from '../../src/query/identity.js';
import { UdpTrackerClient } from '../../src/query/udp-client.js';
import { parseTrackerUrl, scrapePathFor } from '../../src/query/url.js';
import { fakeUdp } from '../fake-trackers.js';

test('tracker URLs: schemes, default ports, raw query kept', () => {
  const u = parseTrackerUrl('udp://tracker.example.net:1337/announce?passkey=a%2Fb');
  assert.deepEqual(u, { transport: 'udp', host: 'tracker.example.net', port: 1337, pathAndQuery: '/announce?passkey=a%2Fb', href: 'udp://tracker.example.net:1337/announce?passkey=a%2Fb' });
  assert.equal(parseTrackerUrl('https://t.example/announce').port, 443);
  assert.equal(parseTrackerUrl('http://[::1]:6969/announce').host, '::1');
  assert.throws(() => parseTrackerUrl('ftp://x/announce'), UsageError);
  assert.throws(() => parseTrackerUrl('udp://x/announce'), /needs a port/);
  assert.throws(() => parseTrackerUrl('not a url'), /-t: not a URL/);
});

test('BEP 48 scrape URL from the announce URL', () => {
  const scrape = (url: string): string => scrapePathFor(parseTrackerUrl(url));
  assert.equal(scrape('http://x/announce'), '/scrape');
  assert.equal(scrape('http://x/x/announce'), '/x/scrape');
  assert.equal(scrape('http://x/announce.php'), '/scrape.php');
  assert.equal(scrape('http://x/announce?x2%0644'), '/scrape?x2%0644');
  // The BEP's own examples of trackers without a scrape URL:
  assert.throws(() => scrape('http://x/a'), /cannot derive a scrape URL/);
  assert.throws(() => scrape('http://x/announce?x=2/4'), UsageError);
  assert.throws(() => scrape('http://x/x%064announce'), UsageError);
  assert.throws(() => scrape('http://x/announce/x'), UsageError);
});

test('qBittorrent identity: User-Agent and -qBXYZ0- peer_id with 12 random bytes', () => {
  const id = qbittorrent('5.1.4');
  assert.equal(id.userAgent, 'qBittorrent/5.1.4');
  assert.equal(id.peerId.length, 20);
  assert.ok(id.peerId.startsWith('-qB5140-'));
  assert.notEqual(qbittorrent('5.1.4').peerId, id.peerId);
  assert.ok(qbittorrent('4.6.10').peerId.startsWith('-qB46A0-'));
  const r = randomQbittorrent();
  assert.ok(QBITTORRENT_VERSIONS.includes(r.version));
  assert.equal(r.userAgent, `qBittorrent/${r.version}`);
});

test('grades, numwant verdicts, batch files, colour rules', () => {
  assert.deepEqual(grade(42), { letter: 'A', label: 'excellent' });
  assert.equal(grade(800).letter, 'D');
  assert.equal(grade(5000).letter, 'F');
  assert.equal(numwantCheck(1, 3, 10).honoured, false);
  assert.equal(numwantCheck(50, 3, 4).text, 'honoured');
  assert.match(numwantCheck(50, 20, 100).text, /capped the list at 20/);
  assert.deepEqual(parseBatchFile('# list\nudp://a:1/announce\n\n  http://b/announce  # b\r\n#x\n'), ['udp://a:1/announce', 'http://b/announce']);
  assert.equal(colourWanted(true, false, {}), true);
  assert.equal(colourWanted(false, false, {}), false);
  assert.equal(colourWanted(true, true, {}), false);
  assert.equal(colourWanted(true, false, { NO_COLOR: '1' }), false);
  assert.equal(painter(false).fail('x'), 'x');
  assert.equal(painter(true).fail('x'), '\x1b[31mx\x1b[0m');
});

test('network errors: the code once; refused and untrusted certificates named', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  assert.equal(errnoText(refused), 'connect ECONNREFUSED 127.0.0.1:9');
  assert.equal(errnoText(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 'ECONNRESET: socket hang up');
  const r = networkError(refused);
  assert.equal(r.kind, 'refused');
  assert.equal(r.message, 'connection refused (connect ECONNREFUSED 127.0.0.1:9)');
  const tls = networkError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }));
  assert.equal(tls.kind, 'tls');
  assert.match(tls.message, /^TLS certificate not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\): .*--ca-cert FILE.*-k$/);
});

test('failure reasons that refuse the info_hash (whitelists, unregistered torrents), and ones that do not', () => {
  for (const text of [
    'Requested download is not authorized for use with this tracker.',
    'torrent not allowed on this tracker',
    'Unregistered torrent',
    'unapproved torrent',
    'info_hash not whitelisted',
    'Info hash not allowed',
    'Torrent not registered with this tracker',
  ]) assert.ok(refusesInfoHash(text), text);
  for (const text of ['invalid passkey', 'full scrape is disabled on this tracker', 'you are announcing too fast', 'bad port']) assert.ok(!refusesInfoHash(text), text);
});

test('--check report: "1 warning", notes in the table, JSON and CSV', () => {
  const report = {
    items: [
      { check: 'reachable over IPv4', status: 'PASS' as const, detail: '127.0.0.1 answered in 1 ms' },
      { check: 'interval', status: 'WARN' as const, detail: '60 s is outside 300–10800 s' },
    ],
    notes: ['UDP not probed'],
  };
  const table = checkOutput('udp://x:1/announce', report, 'table', painter(false));
  assert.match(table, /\n {2}1 passed, 1 warning, 0 failed\n {2}note: UDP not probed\n$/);
  const two = checkOutput('udp://x:1/announce', { ...report, items: [report.items[1]!, report.items[1]!] }, 'table', painter(false));
  assert.match(two, /0 passed, 2 warnings, 0 failed/);
  const json = JSON.parse(checkOutput('udp://x:1/announce', report, 'json', painter(false))) as Record<string, unknown>;
  assert.deepEqual(json['notes'], ['UDP not probed']);
  assert.deepEqual(json['summary'], { pass: 1, warn: 1, fail: 0 });
  assert.equal(checkOutput('u', report, 'csv', painter(false)).trimEnd().split('\n').at(-1), 'note,,UDP not probed');
});

test('UDP: an 8-byte announce reply (opentracker, hash not whitelisted) is a refusal of the info_hash, at once', async () => {
  const ot = await fakeUdp('127.0.0.1', (packet) => {
    const req = decodeRequest(packet);
    if (req.action === 'connect') return encodeConnectResponse(req.transactionId, Buffer.alloc(8, 7));
    const reply = Buffer.alloc(8);
    reply.writeUInt32BE(1, 0);
    reply.writeUInt32BE(req.transactionId, 4);
    return reply;
  });
  const client = new UdpTrackerClient(parseTrackerUrl(`udp://127.0.0.1:${ot.port}/announce`), { identity: qbittorrent('5.1.4'), timeoutMs: 20_000 });
  try {
    const started = Date.now();
    const reply = await client.announce({ infoHash: 'h'.repeat(20), event: 'started', numwant: 5, port: 6881, left: 1, compact: true, noPeerId: true, key: 1 });
    assert.ok(Date.now() - started < 5000, 'answered, not timed out');
    assert.equal(reply.refusedHash, true);
    assert.match(reply.failure ?? '', /empty announce reply \(8 bytes/);
  } finally {
    client.close();
    await ot.close();
  }
});
