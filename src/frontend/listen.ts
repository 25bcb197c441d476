/**
 * Binding listeners: which addresses (--host, --ipv6), TCP and UDP binds
 * whose failure names the flag, the address and the fix.
 */
import type { Socket } from 'node:dgram';
import { isIPv6, type AddressInfo, type Server } from 'node:net';
import { flagOf, type TrackerOptions } from '../runtime/config.js';

/** Tracker transports, and the stats page's own listeners. */
export type ListenerKind = 'udp' | 'https' | 'http' | 'web-http' | 'web-https';

export interface ListenerInfo {
  protocol: ListenerKind;
  family: 4 | 6;
  address: string;
  port: number;
}

/** A listener could not bind: the message names the flag, address and fix. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly flag: string;
  constructor(flag: string, address: string, port: number, cause: NodeJS.ErrnoException) {
    const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
    let fix = `choose another port, or ${flag} 0 to disable it`;
    if (cause.code === 'EACCES') {
      const suggested = port < 1024 ? port + 8000 : port;
      fix = `ports below 1024 need root or CAP_NET_BIND_SERVICE (the systemd unit grants it); as a normal user run with ${flag} ${suggested}, or ${flag} 0 to disable it`;
    }
    if (cause.code === 'EADDRINUSE') fix = `another program is using it; ${fix}`;
    if (cause.code === 'EADDRNOTAVAIL') fix = `${address} is not an address of this machine; check --host`;
    super(`${flag}: cannot listen on ${where} (${cause.code ?? cause.message}): ${fix}`);
    this.flag = flag;
  }
}

const FLAG_OF_KIND: Record<ListenerKind, string> = {
  http: flagOf('httpPort'),
  https: flagOf('httpsPort'),
  udp: flagOf('udpPort'),
  'web-http': flagOf('webHttpPort'),
  'web-https': flagOf('webHttpsPort'),
};

export function bindAddresses(options: TrackerOptions): { address: string; family: 4 | 6 }[] {
  if (options.host !== null) return [{ address: options.host, family: isIPv6(options.host) ? 6 : 4 }];
  const addresses: { address: string; family: 4 | 6 }[] = [{ address: '0.0.0.0', family: 4 }];
  if (options.ipv6) addresses.push({ address: '::', family: 6 });
  return addresses;
}

export function listenTcp(server: Server, kind: ListenerKind, address: string, port: number, ipv6Only: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(FLAG_OF_KIND[kind], address, port, err));
    server.once('error', onError);
    server.listen({ host: address, port, ipv6Only }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function bindUdp(socket: Socket, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(FLAG_OF_KIND.udp, address, port, err));
    socket.once('error', onError);
    socket.bind({ address, port }, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}

/** dgram's lookup for IP literals only: answers at once. */
export function literalLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  void family;
  // A colon means IPv6; isIPv6's regular expression would run for every reply.
  callback(null, address, address.includes(':') ? 6 : 4);
}
