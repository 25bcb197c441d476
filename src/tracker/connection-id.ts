/**
 * Stateless BEP 15 connection ids: 4 bytes of issue time (seconds) and the
 * first 4 bytes of HMAC-SHA256(secret, time ‖ client IP). Nothing is stored
 * per client, so a connect flood cannot grow memory; an id is accepted from
 * the same IP for LIFETIME seconds (BEP 15: the server accepts for 2 minutes).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';

export const CONNECTION_ID_LIFETIME = 120;

export class ConnectionIds {
  private readonly secret: Buffer;
  private readonly clock: Clock;
  private readonly timeBytes = Buffer.alloc(4);

  constructor(clock: Clock, secret: Buffer = randomBytes(32)) {
    this.clock = clock;
    this.secret = secret;
  }

  private mac(time: number, ipBytes: string): number {
    this.timeBytes.writeUInt32BE(time >>> 0, 0);
    return createHmac('sha256', this.secret).update(this.timeBytes).update(ipBytes, 'latin1').digest().readUInt32BE(0);
  }

  /** A fresh id for a client at `ipBytes` (raw IP bytes, latin1). */
  issue(ipBytes: string): Buffer {
    const time = this.clock.now() >>> 0;
    const id = Buffer.allocUnsafe(8);
    id.writeUInt32BE(time, 0);
    id.writeUInt32BE(this.mac(time, ipBytes), 4);
    return id;
  }

  /** Whether `id` was issued by us to `ipBytes` within the lifetime. */
  verify(id: Buffer, ipBytes: string): boolean {
    if (id.length !== 8) return false;
    const time = id.readUInt32BE(0);
    const age = (this.clock.now() >>> 0) - time;
    if (age < 0 || age > CONNECTION_ID_LIFETIME) return false;
    return this.mac(time, ipBytes) === id.readUInt32BE(4);
  }
}
