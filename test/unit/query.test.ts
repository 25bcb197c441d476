import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBatchFile } from '../../src/query/batch.js';
import { UsageError } from '../../src/query/errors.js';
import { colourWanted, grade, numwantCheck, painter } from '../../src/query/format.js';
import { qbittorrent, randomQbittorrent, QBITTORRENT_VERSIONS } from '../../src/query/identity.js';
import { parseTrackerUrl, scrapePathFor } from '../../src/query/url.js';

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
