/**
 * The stats page in a real browser (Debian's chromium, driven headless by
 * playwright-core): figures match /stats.json, charts render, tabs work, the
 * console stays clean; the footer says truly what is stored where; the page
 * fits a phone and reads in both colour schemes. Screenshots go to
 * test/artifacts/ (gitignored).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { percentEncode } from '../../src/protocol/http.js';
import type { StatsJson } from '../../src/stats/page-server.js';
import { httpGet, httpsGet, id20, laneSkip, makeCert, startTestTracker, waitFor, type TestCert, type TestTracker } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
// In CI the browser must be there (.ci/run installs it); elsewhere a missing one skips.
const skip = laneSkip || (!existsSync(CHROMIUM) && process.env['CI'] === undefined ? `${CHROMIUM} is not installed` : false);

type Scheme = 'light' | 'dark';

interface OpenOptions {
  colorScheme?: Scheme;
  viewport?: { width: number; height: number };
  /** Rewrites each /stats.json the page fetches (the real one, from `tracker`). */
  mutate?: (stats: StatsJson) => void;
}

/** What overflows a narrow viewport (run in the page: this project's types have no DOM). */
interface LayoutReport {
  innerWidth: number;
  scrollWidth: number;
  wide: string[];
  cells: { text: string; right: number; scrollWidth: number; clientWidth: number }[];
  urls: { id: string; right: number; scrollWidth: number; clientWidth: number; segments: string[]; lines: number[] }[];
}

const LAYOUT = `(() => {
  const vw = window.innerWidth;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : '');
  const wide = [...document.body.querySelectorAll('*')].filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > vw + 0.5;
  }).map(name);
  const cells = [...document.querySelectorAll('.swarms th, .swarms td')].map((c) => ({
    text: c.textContent, right: c.getBoundingClientRect().right, scrollWidth: c.scrollWidth, clientWidth: c.clientWidth,
  }));
  const urls = [...document.querySelectorAll('#announce-urls code')].map((c) => {
    const texts = [...c.childNodes].filter((n) => n.nodeType === 3);
    return {
      id: c.id, right: c.getBoundingClientRect().right, scrollWidth: c.scrollWidth, clientWidth: c.clientWidth,
      segments: texts.map((n) => n.textContent),
      // Line boxes each segment takes: 1 = it was not broken inside.
      lines: texts.map((n) => { const r = document.createRange(); r.selectNodeContents(n); return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size; }),
    };
  });
  return { innerWidth: vw, scrollWidth: document.documentElement.scrollWidth, wide, cells, urls };
})()`;

interface ContrastReport {
  bodyBackground: string;
  bodyColor: string;
  bodyRatio: number;
  checked: number;
  failures: string[];
}

/**
 * WCAG contrast of the body's text on its background, and of every visible
 * piece of text on the first opaque background under it (opacity and
 * translucent layers blended; the faint hero gradient is not counted):
 * 4.5:1, or 3:1 for large text.
 */
const CONTRAST = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const blend = (fg, bg) => ({ r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1 });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const c of layers.reverse()) bg = blend(c, bg);
    return bg;
  };
  const body = getComputedStyle(document.body);
  const failures = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '')) continue;
    const cs = getComputedStyle(el);
    if (el.getClientRects().length === 0 || cs.visibility === 'hidden' || cs.display === 'none') continue;
    if (el.closest('title')) continue;
    const fg = parse(el instanceof SVGElement ? cs.fill : cs.color);
    if (!fg) { failures.push(el.tagName + ': unreadable colour ' + cs.color); continue; }
    let opacity = 1;
    for (let n = el; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
    const bg = background(el);
    const r = ratio(blend({ ...fg, a: fg.a * opacity }, bg), bg);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    checked++;
    if (r < (large ? 3 : 4.5)) failures.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + el.textContent.trim().slice(0, 30) + '" ' + r.toFixed(2) + ':1');
  }
  const bodyBg = parse(body.backgroundColor);
  return {
    bodyBackground: body.backgroundColor,
    bodyColor: body.color,
    bodyRatio: bodyBg && bodyBg.a === 1 ? ratio(parse(body.color), bodyBg) : 0,
    checked,
    failures,
  };
})()`;

describe('stats page in Chromium', { skip }, () => {
  let t: TestTracker;
  let browser: Browser;
  let dir: string;
  const contexts: BrowserContext[] = [];
  const consoleErrors: string[] = [];
  const ANNOUNCES = 12;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wildkat-stats-page-'));
    t = await startTestTracker({ webHttpPort: 0, domain: 'tracker.example.net' });
    for (let i = 0; i < ANNOUNCES; i++) {
      const hash = id20(`swarm${i % 3}`);
      await httpGet(t.httpPort, `/announce?info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id20(`peer${i}`))}&port=${6000 + i}&left=${i % 4 === 0 ? 0 : 9}`);
    }
    await httpGet(t.httpPort, `/scrape?info_hash=${percentEncode(id20('swarm0'))}`);
    await t.tracker.sweepAll();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  /** Closes every page opened so far (before its tracker goes: a polling page would log the refused fetch). */
  async function closePages(): Promise<void> {
    for (const c of contexts.splice(0)) await c.close();
  }

  afterEach(closePages);

  after(async () => {
    await closePages().catch(() => undefined);
    await browser?.close();
    await t?.tracker.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(tracker: TestTracker, options: OpenOptions = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1100, height: 900 }, colorScheme: options.colorScheme ?? 'light' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()}`));
    const mutate = options.mutate;
    if (mutate !== undefined) {
      await page.route('**/stats.json', async (route) => {
        const response = await route.fetch({ timeout: 10_000 });
        const stats = (await response.json()) as StatsJson;
        mutate(stats);
        await route.fulfill({ response, json: stats });
      });
    }
    await page.goto(`http://127.0.0.1:${tracker.tracker.port('web-http')}/`, { timeout: 15_000 });
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
    return page;
  }

  const textOf = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector))?.trim() ?? '';
  const texts = async (page: Page, selector: string): Promise<string[]> => (await page.locator(selector).allTextContents()).map((s) => s.trim());

  test('figures shown match /stats.json; charts render; tabs switch; no console errors', async () => {
    const page = await open(t);
    const stats = JSON.parse((await httpGet(t.tracker.port('web-http'), '/stats.json')).body.toString()) as StatsJson;
    assert.equal(stats.periods.all_time.announces, ANNOUNCES);
    const text = (id: string): Promise<string> => textOf(page, `#${id}`);

    assert.equal(await text('stat-torrents'), String(stats.live.torrents));
    assert.equal(await text('stat-peers'), String(stats.live.peers));
    assert.equal(await text('stat-announces'), String(ANNOUNCES));
    assert.equal(await text('period-announces'), String(stats.periods.today.announces));
    assert.equal(await text('period-scrapes'), `${stats.periods.today.scrapes} scrapes`);
    assert.equal(await text('period-unique-ips'), String(stats.periods.today.unique_ips));
    assert.equal(await text('url-udp'), stats.announce_urls.udp);
    assert.equal(await text('url-http'), stats.announce_urls.http);
    assert.match(await text('protocol-bars-http'), new RegExp(`^HTTP${ANNOUNCES} \\(100\\.0%\\)$`));
    assert.match(await text('family-bars-ipv4'), /^IPv4.*\(100\.0%\)$/);
    assert.equal(await page.locator('#top-swarms tr').count(), stats.top_swarms.length);
    assert.equal(await text('top-swarms tr:first-child td:first-child'), stats.top_swarms[0]?.info_hash);

    // HTTPS is off here: no HTTPS row, legend entry or rate line; UDP and HTTP are there.
    assert.equal(stats.announce_urls.https, null);
    assert.deepEqual(await texts(page, '#protocol-bars .bar .name'), ['UDP', 'HTTP']);
    assert.equal(await page.locator('#protocol-bars-https').count(), 0);
    assert.deepEqual(await texts(page, '#rate-legend span'), ['UDP', 'HTTP']);

    // Charts: 24 hourly bars with a value axis (0, half, max), and one line per protocol served in each rate chart.
    assert.equal(await page.locator('#activity-chart svg rect').count(), 24);
    assert.deepEqual(await texts(page, '#activity-chart svg text.ytick'), ['0', String(ANNOUNCES / 2), String(ANNOUNCES)]);
    assert.equal(await page.locator('#announce-rate-chart svg polyline').count(), 2);
    assert.equal(await page.locator('#scrape-rate-chart svg polyline').count(), 2);
    const hour = new Date(stats.tracker.generated_at).getUTCHours();
    assert.equal(await page.locator('#activity-chart svg rect').nth(hour).locator('title').textContent(), `${String(hour).padStart(2, '0')}: ${ANNOUNCES}`);

    await page.click('#tab-all_time');
    assert.equal(await page.getAttribute('#tab-all_time', 'aria-selected'), 'true');
    assert.equal(await page.locator('#activity-chart svg rect').count(), 30);
    assert.deepEqual(await texts(page, '#activity-chart svg text.ytick'), ['0', String(ANNOUNCES / 2), String(ANNOUNCES)]);
    assert.equal(await text('period-announces'), String(stats.periods.all_time.announces));
    await page.click('#tab-yesterday');
    assert.equal(await text('period-announces'), '0');
    assert.deepEqual(await texts(page, '#activity-chart svg text.ytick'), ['0', '1'], 'an empty day: 0 and 1, no half');
    await page.click('#tab-today');
    const copy = page.locator('#announce-urls li', { hasText: 'UDP' }).locator('button');
    await copy.click();
    // The clipboard write is asynchronous; the label flips when it is done (and back after 1.5 s).
    await waitFor(async () => (await copy.textContent()) === 'Copied', 5000, 'the Copy button to say Copied');

    await page.screenshot({ path: `${ARTIFACTS}stats-page-light.png`, fullPage: true });
    const dark = await open(t, { colorScheme: 'dark' });
    // Strings: these run in the page, where the DOM is (this project's types have no DOM).
    const background = await dark.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    assert.equal(background, 'rgb(20, 19, 24)', 'dark theme from prefers-color-scheme');
    await dark.screenshot({ path: `${ARTIFACTS}stats-page-dark.png`, fullPage: true });
    assert.deepEqual(consoleErrors, []);
  });

  test('the hourly axis abbreviates large counts (k, M)', async () => {
    let hour = 0;
    const page = await open(t, {
      mutate: (s) => {
        hour = new Date(s.tracker.generated_at).getUTCHours();
        s.hourly.today = s.hourly.today.map((_, i) => (i === hour ? 12_345 : i === 0 ? 2_000 : 0));
        s.hourly.yesterday = s.hourly.yesterday.map((_, i) => (i === 5 ? 3_456_789 : 0));
      },
    });
    assert.deepEqual(await texts(page, '#activity-chart svg text.ytick'), ['0', '6.2k', '12.3k']);
    assert.equal(await page.locator('#activity-chart svg rect').nth(hour).locator('title').textContent(), `${String(hour).padStart(2, '0')}: 12,345`);
    // The tallest bar reaches the max line; the labels sit inside the chart, left of the bars.
    const geometry = (await page.evaluate(`(() => {
      const svg = document.querySelector('#activity-chart svg').getBoundingClientRect();
      const ticks = [...document.querySelectorAll('#activity-chart svg text.ytick')].map((e) => e.getBoundingClientRect());
      const bars = [...document.querySelectorAll('#activity-chart svg rect')].map((e) => e.getBoundingClientRect());
      return { svgLeft: svg.left, tickLeft: Math.min(...ticks.map((r) => r.left)), tickRight: Math.max(...ticks.map((r) => r.right)), barLeft: Math.min(...bars.map((r) => r.left)), maxTickMid: (ticks[2].top + ticks[2].bottom) / 2, tallestTop: Math.min(...bars.map((r) => r.top)) };
    })()`)) as { svgLeft: number; tickLeft: number; tickRight: number; barLeft: number; maxTickMid: number; tallestTop: number };
    assert.ok(geometry.tickLeft >= geometry.svgLeft, 'tick labels are not cut off on the left');
    assert.ok(geometry.tickRight <= geometry.barLeft, 'tick labels do not overlap the bars');
    assert.ok(Math.abs(geometry.maxTickMid - geometry.tallestTop) < 6, `the max label is level with the tallest bar (${JSON.stringify(geometry)})`);
    await page.click('#tab-yesterday');
    assert.deepEqual(await texts(page, '#activity-chart svg text.ytick'), ['0', '1.7M', '3.5M']);
    assert.deepEqual(consoleErrors, []);
  });

  test('the footer says what is stored where: memory only, a state file, Redis', async () => {
    // Before the figures arrive the page claims nothing about storage.
    const html = (await httpGet(t.tracker.port('web-http'), '/')).body.toString();
    assert.match(html, /<p class="card note" id="storage-note">/);
    assert.doesNotMatch(html, /stateless|nothing[^<]*disk|no peer data|in memory only/i);

    const plain = await open(t);
    const memory = await textOf(plain, '#storage-note');
    assert.match(memory, /^Swarms and statistics are held in memory only\. Nothing about peers is written to disk; all figures reset when the tracker restarts\.$/);
    assert.doesNotMatch(memory, /stateless/i);

    const stateFile = join(dir, 'swarms.state');
    const saved = await startTestTracker({ webHttpPort: 0, stateFile, stateInterval: 300 });
    try {
      const stats = JSON.parse((await httpGet(saved.tracker.port('web-http'), '/stats.json')).body.toString()) as StatsJson;
      assert.deepEqual(stats.storage, { store: 'memory', state_file: true, state_interval_seconds: 300 });
      const page = await open(saved);
      const note = await textOf(page, '#storage-note');
      assert.equal(
        note,
        'Swarms (peer ids, IP addresses and ports) are held in memory and also saved to disk every 5 minutes and on shutdown, so they survive a restart. Statistics are held in memory only and reset when the tracker restarts.',
      );
      assert.doesNotMatch(note, /stateless|nothing about peers/i);
      await page.locator('#storage-note').screenshot({ path: `${ARTIFACTS}stats-page-state-file-footer.png`, timeout: 10_000 });
    } finally {
      await closePages();
      await saved.tracker.close();
    }

    // Redis (the JSON rewritten: no Redis server needed to see the wording).
    const redis = await open(t, {
      mutate: (s) => {
        s.storage = { store: 'redis', state_file: false, state_interval_seconds: null };
      },
    });
    const shared = await textOf(redis, '#storage-note');
    assert.match(shared, /^Swarms \(peer ids, IP addresses and ports\) are kept in Redis, shared by every tracker process that uses it;/);
    assert.doesNotMatch(shared, /stateless|in memory only|nothing about peers/i);
    assert.deepEqual(consoleErrors, []);
  });

  test('with HTTPS on, the HTTPS row, legend entry and rate lines are there', async () => {
    const cert: TestCert = makeCert(dir, 'stats-page');
    const secure = await startTestTracker({ webHttpPort: 0, httpsPort: 0, cert: cert.certPath, key: cert.keyPath, domain: 'tracker.example.net' });
    try {
      await httpsGet(secure.tracker.port('https'), `/announce?info_hash=${percentEncode(id20('tls'))}&peer_id=${percentEncode(id20('tls-peer'))}&port=7001&left=5`, cert.pem);
      const page = await open(secure);
      assert.equal(await textOf(page, '#url-https'), 'https://tracker.example.net/announce');
      assert.match(await textOf(page, '#protocol-bars-https'), /^HTTPS1 \(100\.0%\)$/);
      assert.deepEqual(await texts(page, '#protocol-bars .bar .name'), ['UDP', 'HTTPS', 'HTTP']);
      assert.deepEqual(await texts(page, '#rate-legend span'), ['UDP', 'HTTPS', 'HTTP']);
      assert.equal(await page.locator('#announce-rate-chart svg polyline.https').count(), 1);
      assert.equal(await page.locator('#scrape-rate-chart svg polyline').count(), 3);
      await page.screenshot({ path: `${ARTIFACTS}stats-page-https.png`, fullPage: true });
    } finally {
      await closePages();
      await secure.tracker.close();
    }
    assert.deepEqual(consoleErrors, []);
  });

  test('a 390-px phone, light and dark: nothing overflows, the table and URLs fit, text has contrast', async () => {
    const schemes: Record<Scheme, ContrastReport> = {} as Record<Scheme, ContrastReport>;
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await open(t, {
        colorScheme,
        viewport: { width: 390, height: 844 },
        // Wide figures, as on a busy tracker.
        mutate: (s) => {
          s.top_swarms = s.top_swarms.map((w, i) => ({ ...w, peers: 1_234_567 - i, seeders: 1_000_000 - i, leechers: 234_567, downloaded: 98_765_432 }));
        },
      });
      const layout = (await page.evaluate(LAYOUT)) as LayoutReport;
      assert.equal(layout.innerWidth, 390);
      assert.ok(layout.scrollWidth <= 390, `${colorScheme}: no horizontal scroll (scrollWidth ${layout.scrollWidth})`);
      assert.deepEqual(layout.wide, [], `${colorScheme}: elements past the right edge`);
      assert.equal(layout.cells.length, 5 + 5 * layout.cells.filter((c) => /^[0-9a-f]{40}$/.test(c.text ?? '')).length);
      assert.ok(layout.cells.some((c) => c.text === '98,765,432'), 'the wide figures are shown');
      for (const c of layout.cells) {
        assert.ok(c.right <= 390, `${colorScheme}: cell "${c.text}" ends at ${c.right}`);
        assert.ok(c.scrollWidth <= c.clientWidth, `${colorScheme}: cell "${c.text}" is cut off (${c.scrollWidth} > ${c.clientWidth})`);
      }
      assert.deepEqual(layout.urls.map((u) => u.id), ['url-udp', 'url-http', 'url-ws']);
      for (const u of layout.urls) {
        assert.ok(u.right <= 390 && u.scrollWidth <= u.clientWidth, `${colorScheme}: ${u.id} overflows (${JSON.stringify(u)})`);
        // Break opportunities after "://", before ":port" and before "/announce"; no piece broken inside.
        assert.equal(u.segments.length, 4, `${u.id}: ${JSON.stringify(u.segments)}`);
        assert.match(u.segments[0]!, /^[a-z]+:\/\/$/);
        assert.equal(u.segments[1], 'tracker.example.net');
        assert.match(u.segments[2]!, /^:[0-9]+$/);
        assert.equal(u.segments[3], '/announce');
        assert.deepEqual(u.lines, [1, 1, 1, 1], `${colorScheme}: ${u.id} wraps only at its break points`);
      }
      const contrast = (await page.evaluate(CONTRAST)) as ContrastReport;
      assert.ok(contrast.bodyRatio >= 4.5, `${colorScheme}: body text ${contrast.bodyColor} on ${contrast.bodyBackground} is ${contrast.bodyRatio.toFixed(2)}:1`);
      assert.ok(contrast.checked > 50, `${colorScheme}: text elements checked: ${contrast.checked}`);
      assert.deepEqual(contrast.failures, [], `${colorScheme}: text below WCAG AA contrast`);
      schemes[colorScheme] = contrast;
      await page.screenshot({ path: `${ARTIFACTS}stats-page-390-${colorScheme}.png`, fullPage: true });
    }
    assert.notEqual(schemes.light.bodyBackground, schemes.dark.bodyBackground, 'background differs between light and dark');
    assert.notEqual(schemes.light.bodyColor, schemes.dark.bodyColor, 'text colour differs between light and dark');
    assert.deepEqual(consoleErrors, []);
  });

  test('the page refreshes its figures live', async () => {
    const page = await open(t);
    const before = await page.textContent('#stat-announces');
    await httpGet(t.httpPort, `/announce?info_hash=${percentEncode(id20('late'))}&peer_id=${percentEncode(id20('late'))}&port=7777&left=1`);
    await waitFor(async () => (await page.textContent('#stat-announces')) !== before, 12_000, 'the next poll of /stats.json');
    assert.equal(await page.textContent('#stat-announces'), String(ANNOUNCES + 1));
  });
});
