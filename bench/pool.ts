/** The benchmark's torrents and peers: the same for the load generator and the whitelist. */
import { createHash } from 'node:crypto';

export function poolHash(i: number): Buffer {
  return createHash('sha1').update(`wildkat-bench-${i}`).digest();
}

export function peerOf(pair: number): { peerId: string; port: number } {
  const id = Buffer.alloc(20);
  id.write('-WB0001-', 0, 'latin1');
  id.writeUInt32BE(Math.floor(pair / 2 ** 32), 8);
  id.writeUInt32BE(pair >>> 0, 12);
  return { peerId: id.toString('latin1'), port: 1024 + (pair % 64000) };
}

