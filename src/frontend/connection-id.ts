/**
 * Stateless BEP 15 connection ids: 4 bytes of issue time (seconds) and a
 * 32-bit HalfSipHash-2-4 tag of (time ‖ client IP) under a secret key made
 * at start. Nothing is stored per client, so a connect flood cannot grow
 * memory; an id is accepted from the same IP for LIFETIME seconds (BEP 15:
 * the server accepts for 2 minutes).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../runtime/clock.js';
import { HalfSipHash } from './halfsiphash.js';

export const CONNECTION_ID_LIFETIME = 120;

export class ConnectionIds {
  private readonly prf: HalfSipHash;
  private readonly clock: Clock;
  /** time (4) + IPv6 address (16) at most. */
  private readonly scratch = new Uint8Array(20);

  constructor(clock: Clock, secret: Uint8Array = randomBytes(8)) {
    this.clock = clock;
    this.prf = new HalfSipHash(secret.subarray(0, 8));
  }

  private tag(time: number, ipBytes: string): number {
    const s = this.scratch;
    s[0] = time >>> 24;
    s[1] = time >>> 16;
    s[2] = time >>> 8;
    s[3] = time;
    for (let i = 0; i < ipBytes.length; i++) s[4 + i] = ipBytes.charCodeAt(i);
    return this.prf.hash(s, 4 + ipBytes.length);
  }

  /** A fresh id for a client at `ipBytes` (raw IP bytes, latin1). */
  issue(ipBytes: string): Buffer {
    const time = this.clock.now() >>> 0;
    const id = Buffer.allocUnsafe(8);
    id.writeUInt32BE(time, 0);
    id.writeUInt32BE(this.tag(time, ipBytes), 4);
    return id;
  }

  /** Whether `id` was issued by us to `ipBytes` within the lifetime. */
  verify(id: Uint8Array, ipBytes: string): boolean {
    if (id.length !== 8) return false;
    const time = ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
    const age = (this.clock.now() >>> 0) - time;
    if (age < 0 || age > CONNECTION_ID_LIFETIME) return false;
    const tag = ((id[4]! << 24) | (id[5]! << 16) | (id[6]! << 8) | id[7]!) >>> 0;
    return this.tag(time, ipBytes) === tag;
  }
}
