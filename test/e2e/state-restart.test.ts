/** --state-file through the daemon: restarts, kill -9 mid-save, and a file past V8's longest string. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { percentEncode } from '../../src/protocol/http.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { filled, NOW } from '../state-fixtures.js';
import { loadState, saveState } from '../../src/store/state-file.js';
import { asDict, httpGet, freePort, id20, trackerGet, waitFor } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../bin/wildkat-tracker', import.meta.url));
describe('a state file over 512 MiB', () => {
  test('a state file over 512 MiB (past V8\'s longest string) loads line by line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-bigstate-'));
    try {
      const path = join(dir, 'state.jsonl');
      const live = await saveState(join(dir, 'live.jsonl'), filled(3, 4), NOW);
      const liveLines = readFileSync(join(dir, 'live.jsonl'), 'latin1').split('\n').slice(1, 1 + live.torrents);
      // 560 MB of torrents whose peers expired (cheap to load), between live ones.
      const peer = (i: number): string => `["${'ab'.repeat(20)}","0a00000${i}1ae1",${NOW - 7200},0]`;
      const expiredLine = `{"h":"${'cd'.repeat(20)}","d":3,"p":[${Array.from({ length: 5 }, (_, i) => peer(i)).join(',')}]}\n`;
      const block = Buffer.from(expiredLine.repeat(Math.floor((8 << 20) / expiredLine.length)), 'latin1');
      const blocks = Math.ceil(560e6 / block.length);
      const fd = openSync(path, 'w');
      writeSync(fd, `${JSON.stringify({ format: 'wildkat-state', version: 1, saved_at: NOW })}\n${liveLines[0]}\n`);
      for (let i = 0; i < blocks; i++) writeSync(fd, block);
      writeSync(fd, `${liveLines.slice(1).join('\n')}\n${JSON.stringify({ end: true, torrents: live.torrents + (blocks * block.length) / expiredLine.length })}\n`);
      closeSync(fd);
      assert.ok(statSync(path).size > 2 ** 29, 'bigger than the longest string V8 makes');
      const store = new MemoryStore({ peerTtl: 3600 });
      const r = await loadState(path, store, NOW, 3600);
      assert.equal(r.damaged, false);
      assert.equal(r.badLines, 0);
      assert.equal(r.peers, 12, 'every live peer, first line and last');
      assert.deepEqual(store.totals(NOW), { torrents: 3, peers: 12, seeders: 6, leechers: 6 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

});

function startDaemon(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--web-http-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}


describe('state across restarts of the daemon', () => {
  test('1,000 peers across 100 torrents: SIGTERM, restart, identical scrape counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-restart-'));
    const state = join(dir, 'state.jsonl');
    const p = await freePort('127.0.0.1');
    const args = ['--http-port', String(p), '--udp-port', '0', '--state-file', state, '--max-scrape-hashes', '100'];
    const hashes = Array.from({ length: 100 }, (_, t) => id20(`torrent${t}`));
    const scrapeAll = async (): Promise<string> => {
      const reply = await trackerGet(p, `/scrape?${hashes.map((h) => `info_hash=${percentEncode(h)}`).join('&')}`);
      const files = asDict(reply.get('files'));
      return JSON.stringify(hashes.map((h) => [...asDict(files.get(h)).entries()]));
    };
    let run = startDaemon(args);
    try {
      await waitFor(async () => (await httpGet(p, '/scrape').catch(() => null)) !== null, 10_000, 'the daemon');
      for (let t = 0; t < 100; t++) {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            httpGet(p, `/announce?info_hash=${percentEncode(hashes[t]!)}&peer_id=${percentEncode(id20(`peer${i}`))}&port=${7000 + i}&left=${i < 3 ? 0 : 100}${i === 0 ? '&event=completed' : ''}`),
          ),
        );
      }
      const before = await scrapeAll();
      run.child.kill('SIGTERM');
      assert.equal(await exited(run.child), 0);
      assert.match(run.output(), /"reason":"shutdown","torrents":100,"bytes":\d+,"ms":\d+,"msg":"state saved"[^\n]*\n[^\n]*"msg":"stopped"/, "the final save completes, with its duration, before the process stops");
      run = startDaemon(args);
      await waitFor(async () => (await httpGet(p, '/scrape').catch(() => null)) !== null, 10_000, 'the restarted daemon');
      assert.match(run.output(), /"torrents":100,"peers":1000,"msg":"swarms loaded from the state file"/);
      assert.equal(await scrapeAll(), before);
      const stats = JSON.parse(before) as [string, number][][];
      assert.deepEqual(stats[0], [['complete', 3], ['downloaded', 1], ['incomplete', 7]]);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kill -9 while a snapshot is being written leaves the previous snapshot whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wildkat-crash-'));
    const state = join(dir, 'state.jsonl');
    try {
      // A large state makes every save take a while: 4,000 torrents × 50 peers.
      await saveState(state, filled(4000, 50, Math.floor(Date.now() / 1000)), Math.floor(Date.now() / 1000));
      for (let round = 0; round < 4; round++) {
        const run = startDaemon(['--http-port', '0', '--udp-port', String(await freePort('127.0.0.1')), '--state-file', state, '--state-interval', '1']);
        await waitFor(() => /"msg":"listening"/.test(run.output()), 20_000, 'the daemon');
        // Kill it while the temporary file of a save (one a second, ~200 ms each) is being written.
        const tmp = `${state}.tmp-${run.child.pid}`;
        await waitFor(() => existsSync(tmp), 10_000, 'a save in progress');
        run.child.kill('SIGKILL');
        await exited(run.child);
        const check = await loadState(state, new MemoryStore({ peerTtl: 3600 }), Math.floor(Date.now() / 1000), 3600);
        assert.equal(check.damaged, false, `round ${round}: the snapshot is whole`);
        assert.equal(check.peers, 200_000, `round ${round}`);
      }
      assert.ok(readdirSync(dir).every((f) => !f.includes('damaged')));
      assert.ok(readdirSync(dir).some((f) => f.includes('.tmp-')), 'the interrupted writes left their temporary files, not the snapshot');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
