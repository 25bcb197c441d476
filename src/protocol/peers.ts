/**
 * Peer addresses in their wire forms. Inside the tracker an address is a
 * latin1 string of raw bytes (4 or 16 for an IP; 6 or 18 with the port), so
 * that the store keeps strings, not small Buffers, and replies are assembled
 * by copying those bytes.
 */
import { isIPv6 } from 'node:net';
import { Address6 } from 'ip-address';

export type Family = 4 | 6;

/** The 12-byte prefix of an IPv4-mapped IPv6 address (::ffff:0:0/96). */
export const MAPPED_PREFIX = '\0\0\0\0\0\0\0\0\0\0\xff\xff';

/**
 * What reply encoders need of a peer, in one string (one string header per
 * peer in the store instead of two): the raw 20-byte peer id, then the
 * compact address, 4-byte IPv4 + port (6) or 16-byte IPv6 + port (18), latin1.
 */
export interface PeerEntry {
  readonly id: string;
}

export const PEER_ID_LENGTH = 20;
const joinScratch = Buffer.alloc(PEER_ID_LENGTH + 18);

/** `peerId` + `addr` as one flat string (a `+` would make a rope that keeps both alive). */
export function peerEntryId(peerId: string, addr: string): string {
  joinScratch.write(peerId, 0, PEER_ID_LENGTH, 'latin1');
  const n = joinScratch.write(addr, PEER_ID_LENGTH, 18, 'latin1');
  return joinScratch.toString('latin1', 0, PEER_ID_LENGTH + n);
}

export function peerEntry(peerId: string, addr: string): PeerEntry {
  return { id: peerEntryId(peerId, addr) };
}

export function entryPeerId(e: PeerEntry): string {
  return e.id.slice(0, PEER_ID_LENGTH);
}

export function entryAddr(e: PeerEntry): string {
  return e.id.slice(PEER_ID_LENGTH);
}

/** Dotted quad → 4 raw bytes, by char codes: this runs for every packet. */
function parseIPv4(ip: string): string | null {
  if (ip.length < 7 || ip.length > 15) return null;
  let o0 = 0;
  let o1 = 0;
  let o2 = 0;
  let dots = 0;
  let part = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const ch = ip.charCodeAt(i);
    if (ch === 0x2e) {
      if (digits === 0 || dots === 3) return null;
      if (dots === 0) o0 = part;
      else if (dots === 1) o1 = part;
      else o2 = part;
      dots++;
      part = 0;
      digits = 0;
      continue;
    }
    if (ch < 0x30 || ch > 0x39 || (digits > 0 && part === 0)) return null;
    part = part * 10 + (ch - 0x30);
    if (part > 255) return null;
    digits++;
  }
  return dots === 3 && digits > 0 ? String.fromCharCode(o0, o1, o2, part) : null;
}

/**
 * Raw bytes (latin1, 4 or 16) of a textual IP address. An IPv4-mapped IPv6
 * address (as a dual-stack socket reports IPv4 clients) becomes its 4 bytes.
 * Returns null for anything that is not an IP address.
 */
export function ipToBytes(ip: string): string | null {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return v4;
  if (!isIPv6(ip)) return null;
  const zone = ip.indexOf('%');
  const address = new Address6(zone >= 0 ? ip.slice(0, zone) : ip);
  const bytes = String.fromCharCode(...address.toUnsignedByteArray());
  return bytes.startsWith(MAPPED_PREFIX) ? bytes.slice(12) : bytes;
}

/** Text form of raw IP bytes (4 or 16, latin1 or Buffer). */
export function bytesToIp(bytes: string | Uint8Array): string {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new RangeError(`an IP address is 4 or 16 bytes, got ${b.length}`);
  if (Buffer.from(b.subarray(0, 12)).toString('latin1') === MAPPED_PREFIX) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return Address6.fromUnsignedByteArray([...b]).correctForm();
}

/** `::ffff:a.b.c.d`, the BEP 7 form of an IPv4 address for an IPv6 client. */
export function mappedIPv4(ipv4: string): string {
  return Address6.fromAddress4(ipv4).to4in6();
}

/** Compact address: IP bytes followed by the port, big-endian. */
export function compactAddr(ipBytes: string, port: number): string {
  return ipBytes + String.fromCharCode(port >>> 8, port & 0xff);
}

/** Bytes one peer takes in a compact list for a client of `family`. */
export function compactSize(family: Family): 6 | 18 {
  return family === 4 ? 6 : 18;
}

/**
 * The peers chosen for one reply, already in the requester's compact form:
 * `count` entries of `entrySize` bytes (6 for an IPv4 client; 18 for an
 * IPv6 client, IPv4 peers ::ffff:-mapped) in `addrs`, and their 20-byte
 * peer ids in the same order in `ids` (written only when the announce
 * asked for peer ids). A reply copies `addrs` in one go.
 * The memory store reuses these buffers: encode before the next announce.
 */
export interface PeerSet {
  readonly count: number;
  readonly entrySize: 6 | 18;
  readonly addrs: Uint8Array;
  readonly ids: Uint8Array;
}

export const EMPTY_PEERS: PeerSet = { count: 0, entrySize: 6, addrs: new Uint8Array(0), ids: new Uint8Array(0) };

const MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** A PeerSet for a client of `family` from entries (peer id + compact address); IPv6 entries are left out for an IPv4 client. */
export function peerSetOf(entries: readonly PeerEntry[], family: Family): PeerSet {
  const entrySize = compactSize(family);
  const usable = entries.filter((e) => family === 6 || e.id.length === PEER_ID_LENGTH + 6);
  const addrs = new Uint8Array(usable.length * entrySize);
  const ids = new Uint8Array(usable.length * PEER_ID_LENGTH);
  usable.forEach((e, n) => {
    let o = n * entrySize;
    if (family === 6 && e.id.length === PEER_ID_LENGTH + 6) {
      addrs.set(MAPPED, o);
      o += 12;
    }
    for (let i = PEER_ID_LENGTH; i < e.id.length; i++) addrs[o++] = e.id.charCodeAt(i);
    for (let i = 0; i < PEER_ID_LENGTH; i++) ids[n * PEER_ID_LENGTH + i] = e.id.charCodeAt(i);
  });
  return { count: usable.length, entrySize, addrs, ids };
}

/** The entries of a PeerSet (an ::ffff:-mapped address back as 6 bytes), for tests and snapshots. */
export function peerSetEntries(set: PeerSet): PeerEntry[] {
  const out: PeerEntry[] = [];
  for (let n = 0; n < set.count; n++) {
    let addr = Buffer.from(set.addrs.subarray(n * set.entrySize, (n + 1) * set.entrySize));
    if (set.entrySize === 18 && MAPPED.every((b, i) => addr[i] === b)) addr = addr.subarray(12);
    out.push(peerEntry(Buffer.from(set.ids.subarray(n * PEER_ID_LENGTH, (n + 1) * PEER_ID_LENGTH)).toString('latin1'), addr.toString('latin1')));
  }
  return out;
}

/** Copies a PeerSet's compact addresses into `out`; returns the bytes written. */
export function writePeerSet(set: PeerSet, out: Uint8Array, offset: number): number {
  const bytes = set.count * set.entrySize;
  out.set(set.addrs.subarray(0, bytes), offset);
  return bytes;
}

export interface DecodedPeer {
  ip: string;
  port: number;
  peerId?: Buffer;
}

/** Splits a compact peer string (6 or 18 bytes a peer) into addresses. */
export function decodeCompactPeers(data: Uint8Array, family: Family): DecodedPeer[] {
  const size = compactSize(family);
  const ipLength = size - 2;
  const peers: DecodedPeer[] = [];
  for (let i = 0; i + size <= data.length; i += size) {
    const ip = bytesToIp(data.subarray(i, i + ipLength));
    const port = (data[i + ipLength]! << 8) | data[i + ipLength + 1]!;
    peers.push({ ip, port });
  }
  return peers;
}
