/**
 * Which address an HTTP announce comes from. The socket's peer address,
 * unless that peer is a proxy listed in --trust-proxy: then the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (entries to its
 * left could have been written by the client), or X-Real-IP. The announce's
 * own `ip`/`ipv4`/`ipv6` parameters are never believed: they would let
 * anyone put a third party's address into swarms.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { Address4, Address6 } from 'ip-address';
import { parseCidr } from '../runtime/config.js';

function parse(ip: string): Address4 | Address6 | null {
  const v4 = /^::ffff:([0-9.]+)$/i.exec(ip);
  const text = v4 ? v4[1]! : ip;
  const family = isIP(text);
  if (family === 4) return new Address4(text);
  if (family === 6) return new Address6(text);
  return null;
}

export class ClientAddressResolver {
  private readonly trusted: (Address4 | Address6)[];

  constructor(trustProxy: readonly string[]) {
    this.trusted = trustProxy.map(parseCidr);
  }

  private isTrusted(ip: string): boolean {
    const a = parse(ip);
    if (a === null) return false;
    return this.trusted.some((net) => (a instanceof Address4 ? net instanceof Address4 && a.isInSubnet(net) : net instanceof Address6 && a.isInSubnet(net)));
  }

  /** The client's IP as text, or null when a trusted proxy sent an unusable header. */
  resolve(remote: string, headers: IncomingHttpHeaders): string | null {
    if (this.trusted.length === 0 || !this.isTrusted(remote)) return remote;
    const forwarded = headers['x-forwarded-for'];
    if (forwarded !== undefined) {
      const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',').map((h) => h.trim()).filter((h) => h !== '');
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i]!;
        if (parse(hop) === null) return null;
        if (i === 0 || !this.isTrusted(hop)) return hop;
      }
    }
    const real = headers['x-real-ip'];
    if (typeof real === 'string' && real.trim() !== '') return parse(real.trim()) === null ? null : real.trim();
    return remote;
  }
}
