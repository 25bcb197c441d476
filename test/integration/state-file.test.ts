/** --state-file format and failures: damage never loses the good part, a failed save leaves nothing behind (daemon restarts: test/e2e/state-restart.test.ts). */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MemoryStore } from '../../src/store/memory-store.js';
import { filled, NOW } from '../state-fixtures.js';
import { loadState, saveState } from '../../src/store/state-file.js';
import { id20, startTestTracker } from '../helpers.js';

describe('state file format', () => {
  test('save then load gives the same swarms; expired peers are left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-state-'));
    try {
      const path = join(dir, 'state.jsonl');
      const store = filled(20, 10);
      const saved = await saveState(path, store, NOW);
      assert.equal(saved.torrents, 20);
      const back = new MemoryStore({ peerTtl: 3600 });
      const loaded = await loadState(path, back, NOW + 10, 3600);
      assert.deepEqual(loaded, { missing: false, torrents: 20, peers: 200, badLines: 0, damaged: false, unreadable: null, setAsideTo: null });
      const hashes = Array.from({ length: 20 }, (_, t) => id20(`t${t}`));
      assert.deepEqual(back.scrape(hashes, NOW + 10), store.scrape(hashes, NOW + 10));
      assert.deepEqual(back.totals(NOW + 10), store.totals(NOW + 10));
      // An hour later, everything has expired: nothing comes back.
      const late = new MemoryStore({ peerTtl: 3600 });
      assert.equal((await loadState(path, late, NOW + 3600, 3600)).peers, 0);
      assert.equal((await loadState(join(dir, 'none'), late, NOW, 3600)).missing, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a truncated or damaged file is used as far as it is good, then set aside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-state-'));
    try {
      const path = join(dir, 'state.jsonl');
      await saveState(path, filled(10, 5), NOW);
      const full = readFileSync(path, 'utf8');
      // Cut in the middle of the 7th torrent line.
      const lines = full.split('\n');
      truncateSync(path, lines.slice(0, 7).join('\n').length + 20);
      const store = new MemoryStore({ peerTtl: 3600 });
      const r = await loadState(path, store, NOW, 3600);
      assert.equal(r.damaged, true);
      assert.equal(r.torrents, 6, 'the six whole torrent lines');
      assert.equal(r.peers, 30);
      assert.equal(r.badLines, 1);
      assert.ok(r.setAsideTo !== null && existsSync(r.setAsideTo));
      assert.equal(existsSync(path), false, 'the next save starts a new file; the damaged one is kept aside');

      writeFileSync(path, 'garbage\n\x00\x01{"h":1}\n');
      const g = await loadState(path, new MemoryStore({ peerTtl: 3600 }), NOW, 3600);
      assert.equal(g.damaged, true);
      assert.equal(g.peers, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('state file limits and failures', () => {
  test('a line longer than the limit is skipped as damaged; the rest loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-state-'));
    try {
      const path = join(dir, 'state.jsonl');
      await saveState(path, filled(5, 40), NOW);
      const lines = readFileSync(path, 'latin1').split('\n');
      const longest = Math.max(...lines.map((l) => l.length));
      // A limit below one line's length: that line (and only it) is unusable.
      const r = await loadState(path, new MemoryStore({ peerTtl: 3600 }), NOW, 3600, longest - 1);
      assert.ok(r.badLines >= 1 && r.torrents === 5 - r.badLines && r.peers === r.torrents * 40);
      assert.ok(r.setAsideTo !== null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failed save removes its temporary file and keeps the previous snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-state-'));
    try {
      // The state path is a folder: the rename at the end of the save fails.
      const path = join(dir, 'state.jsonl');
      mkdirSync(join(path, 'x'), { recursive: true });
      await assert.rejects(saveState(path, filled(5, 5), NOW));
      assert.deepEqual(readdirSync(dir), ['state.jsonl'], 'no temporary file left behind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('start: a stale temporary that cannot be removed is a warning; an unreadable state is set aside; a missing folder is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-state-'));
    try {
      const path = join(dir, 'state.jsonl');
      // Neither can be removed or read as a file: both are non-empty folders.
      mkdirSync(join(dir, 'state.jsonl.tmp-999999', 'x'), { recursive: true });
      mkdirSync(join(path, 'y'), { recursive: true });
      const t = await startTestTracker({ stateFile: path });
      try {
        const warn = t.logs.lines.find((l) => l.msg === 'cannot remove a temporary file an earlier save left behind');
        assert.ok(warn !== undefined && warn.level === 40);
        const aside = t.logs.lines.find((l) => l.msg === 'state file unreadable: set aside, starting with what was read');
        assert.ok(aside !== undefined && typeof aside.setAsideTo === 'string' && existsSync(aside.setAsideTo));
        await t.tracker.saveState();
        assert.equal((await loadState(path, new MemoryStore({ peerTtl: 3600 }), NOW, 3600)).damaged, false, 'saving works again');
      } finally {
        await t.tracker.close();
      }
      await assert.rejects(startTestTracker({ stateFile: join(dir, 'nope', 'state.jsonl') }), /--state-file: the folder .*nope does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
