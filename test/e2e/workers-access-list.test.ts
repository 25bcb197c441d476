/**
 * An access list with --workers 2 on Redis: every worker filters, and a
 * SIGHUP to the primary reloads the list in every worker (and the primary,
 * which drops the swarms the new list refuses from the shared store).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ERRORS } from '../../src/protocol/errors.js';
import { startInstance, type Instance } from '../daemon-process.js';
import { id20, waitFor } from '../helpers.js';
import { redisSkip, startRedis, type TestRedis } from '../redis-server.js';
import { httpAnnounce, udpAnnounce, udpScrape } from '../tracker-client.js';

const hex = (h: string): string => Buffer.from(h, 'latin1').toString('hex');
const A = id20('acl-a');
const B = id20('acl-b');

describe('--allow-list with --workers 2', { skip: redisSkip }, () => {
  let redis: TestRedis;
  let t: Instance;
  let dir: string;
  let list: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wildkat-wacl-'));
    list = join(dir, 'allow.txt');
    writeFileSync(list, `${hex(A)}\n`);
    redis = await startRedis();
    t = await startInstance(redis.url, ['--workers', '2', '--allow-list', list], 'workers ready');
  });
  after(async () => {
    await t?.daemon.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every worker filters; SIGHUP reloads the list everywhere and the refused swarm is dropped', { timeout: 30_000 }, async () => {
    // Fresh sockets and connections: both workers answer some of them.
    for (let i = 0; i < 10; i++) {
      assert.equal((await udpAnnounce(t.port, { infoHash: A, peerId: id20(`a${i}`), port: 6000 + i })).failure, null);
      assert.equal((await httpAnnounce(t.port, { infoHash: B, peerId: id20(`b${i}`), port: 6100 + i })).failure, ERRORS.torrent_not_allowed.text);
    }
    const loads = (): Set<unknown> => new Set(t.daemon.lines().filter((l) => l['msg'] === 'access list loaded' && l['reason'] === 'reload requested').map((l) => l['pid']));
    writeFileSync(list, `${hex(B)}\n`);
    t.daemon.child.kill('SIGHUP');
    await waitFor(() => loads().size >= 3, 10_000, 'the list loaded again by the primary and both workers');
    for (let i = 0; i < 10; i++) {
      assert.equal((await httpAnnounce(t.port, { infoHash: B, peerId: id20(`b${i}`), port: 6100 + i })).failure, null);
      assert.equal((await udpAnnounce(t.port, { infoHash: A, peerId: id20(`a${i}`), port: 6000 + i })).failure, ERRORS.torrent_not_allowed.text);
    }
    await t.daemon.waitForLine('swarms dropped: the access list refuses them', 10_000);
    assert.deepEqual(await udpScrape(t.port, [A, B]), [{ complete: 0, incomplete: 0, downloaded: 0 }, { complete: 0, incomplete: 10, downloaded: 0 }]);
  });
});
