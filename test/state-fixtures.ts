/** Stores filled for the state-file tests (in-process and through the daemon). */
import { MemoryStore } from '../src/store/memory-store.js';
import { id20 } from './helpers.js';

export const NOW = 1_800_000_000;

function addr(i: number): string {
  return String.fromCharCode(10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0x1a, 0xe1);
}

/** `torrents` × `peersEach` peers (every third a seeder, the first `completed`), announced at now, now-1, …. */
export function filled(torrents: number, peersEach: number, now = NOW): MemoryStore {
  const store = new MemoryStore({ peerTtl: 3600 });
  for (let t = 0; t < torrents; t++) {
    for (let p = 0; p < peersEach; p++) {
      store.announce({ infoHash: id20(`t${t}`), peerId: id20(`p${p}`), addr: addr(t * peersEach + p), seeder: p % 3 === 0, event: p === 0 ? 'completed' : 'started', numwant: 0 }, now - p);
    }
  }
  return store;
}
