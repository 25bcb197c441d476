/**
 * The stats page in a real browser (Debian's chromium, driven headless by
 * playwright-core): figures match /stats.json, charts render, tabs work, the
 * console stays clean. Screenshots go to test/artifacts/ (gitignored).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { percentEncode } from '../../src/protocol/http.js';
import type { StatsJson } from '../../src/stats/page-server.js';
import { httpGet, id20, startTestTracker, waitFor, type TestTracker } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
// In CI the browser must be there (.ci/run installs it); elsewhere a missing one skips.
const skip = !existsSync(CHROMIUM) && process.env['CI'] === undefined ? `${CHROMIUM} is not installed` : false;

describe('stats page in Chromium', { skip }, () => {
  let t: TestTracker;
  let browser: Browser;
  const consoleErrors: string[] = [];
  const ANNOUNCES = 12;

  before(async () => {
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

  after(async () => {
    await browser?.close();
    await t?.tracker.close();
  });

  async function open(colorScheme: 'light' | 'dark'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, colorScheme });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()}`));
    await page.goto(`http://127.0.0.1:${t.tracker.port('web-http')}/`, { timeout: 15_000 });
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
    return page;
  }

  test('figures shown match /stats.json; charts render; tabs switch; no console errors', async () => {
    const page = await open('light');
    const stats = JSON.parse((await httpGet(t.tracker.port('web-http'), '/stats.json')).body.toString()) as StatsJson;
    assert.equal(stats.periods.all_time.announces, ANNOUNCES);
    const text = async (id: string): Promise<string> => (await page.textContent(`#${id}`))?.trim() ?? '';

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

    // Charts: 24 hourly bars, and one line per protocol in each rate chart.
    assert.equal(await page.locator('#activity-chart svg rect').count(), 24);
    assert.equal(await page.locator('#announce-rate-chart svg polyline').count(), 3);
    assert.equal(await page.locator('#scrape-rate-chart svg polyline').count(), 3);
    const hour = new Date(stats.tracker.generated_at).getUTCHours();
    assert.equal(await page.locator('#activity-chart svg rect').nth(hour).locator('title').textContent(), `${String(hour).padStart(2, '0')}: ${ANNOUNCES}`);

    await page.click('#tab-all_time');
    assert.equal(await page.getAttribute('#tab-all_time', 'aria-selected'), 'true');
    assert.equal(await page.locator('#activity-chart svg rect').count(), 30);
    assert.equal(await text('period-announces'), String(stats.periods.all_time.announces));
    await page.click('#tab-yesterday');
    assert.equal(await text('period-announces'), '0');
    await page.click('#tab-today');
    const copy = page.locator('#announce-urls li', { hasText: 'UDP' }).locator('button');
    await copy.click();
    // The clipboard write is asynchronous; the label flips when it is done (and back after 1.5 s).
    await waitFor(async () => (await copy.textContent()) === 'Copied', 5000, 'the Copy button to say Copied');

    await page.screenshot({ path: `${ARTIFACTS}stats-page-light.png`, fullPage: true });
    const dark = await open('dark');
    // Strings: these run in the page, where the DOM is (this project's types have no DOM).
    const background = await dark.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    assert.equal(background, 'rgb(20, 19, 24)', 'dark theme from prefers-color-scheme');
    await dark.screenshot({ path: `${ARTIFACTS}stats-page-dark.png`, fullPage: true });
    assert.deepEqual(consoleErrors, []);
  });

  test('the page refreshes its figures live', async () => {
    const page = await open('light');
    const before = await page.textContent('#stat-announces');
    await httpGet(t.httpPort, `/announce?info_hash=${percentEncode(id20('late'))}&peer_id=${percentEncode(id20('late'))}&port=7777&left=1`);
    await waitFor(async () => (await page.textContent('#stat-announces')) !== before, 12_000, 'the next poll of /stats.json');
    assert.equal(await page.textContent('#stat-announces'), String(ANNOUNCES + 1));
  });
});
