/**
 * `--check`: a compliance report for one tracker, in the spirit of
 * newTrackon's and chihaya's testers, run locally. It announces a few
 * made-up peers on the info_hash given with -H (a whitelist tracker serves
 * no other), else on fresh random info_hashes, and stops them afterwards.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { QueryError, REFUSED_HASH_HINT } from './errors.js';
import { httpAnnounce, httpScrape } from './http-client.js';
import { qbittorrent, type ClientIdentity } from './identity.js';
import type { AnnounceParams, AnnounceReply, QueryOptions, ScrapeReply } from './types.js';
import { UdpTrackerClient } from './udp-client.js';
import { hostForUrl, parseTrackerUrl, scrapePathFor, type TrackerUrl } from './url.js';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

export interface CheckItem {
  check: string;
  status: CheckStatus;
  detail: string;
}

export interface CheckReport {
  items: CheckItem[];
  /** What the report did or left out, and why (e.g. no UDP probe for https://). */
  notes: string[];
}

export interface CheckOptions {
  /** The info_hash to announce and scrape (raw 20 bytes, latin1), from -H; random ones if absent. */
  infoHash?: string;
  /** The UDP URL to probe besides an http(s):// tracker (--udp), instead of its host and port. */
  udpUrl?: TrackerUrl;
}

const MIN_INTERVAL = 300;
const MAX_INTERVAL = 10_800;

/** One made-up peer: its own peer_id and port. */
interface TestPeer {
  identity: ClientIdentity;
  port: number;
}

function testPeer(version: string): TestPeer {
  return { identity: qbittorrent(version), port: randomInt(20_000, 60_000) };
}

/** The tracker answered, but refuses the info_hash (not on its whitelist, unregistered). */
class HashRefused extends QueryError {
  readonly address: string;
  readonly responseTimeMs: number;
  constructor(reply: AnnounceReply) {
    super('failure', reply.failure ?? 'refused');
    this.address = reply.address;
    this.responseTimeMs = reply.responseTimeMs;
  }
}

function errorText(err: unknown): string {
  if (err instanceof HashRefused) return `${REFUSED_HASH_HINT} (${err.message})`;
  return err instanceof QueryError ? err.message : String(err);
}

/** A refusal of the info_hash is the user's to fix (-H), not a fault of the tracker: WARN. */
function statusOf(err: unknown): CheckStatus {
  return err instanceof HashRefused ? 'WARN' : 'FAIL';
}

function randomHash(): string {
  return randomBytes(20).toString('latin1');
}

/** Talks to one tracker URL as several peers, over one address family. */
class Prober {
  private readonly udpClients = new Map<string, UdpTrackerClient>();
  /** Every (info_hash, peer) announced, once each: stopped by cleanUp. */
  private readonly announced = new Map<string, { hash: string; peer: TestPeer }>();
  readonly tracker: TrackerUrl;
  private readonly options: QueryOptions;

  constructor(tracker: TrackerUrl, options: QueryOptions) {
    this.tracker = tracker;
    this.options = options;
  }

  private udpFor(peer: TestPeer): UdpTrackerClient {
    let client = this.udpClients.get(peer.identity.peerId);
    if (client === undefined) {
      client = new UdpTrackerClient(this.tracker, { ...this.options, identity: peer.identity });
      this.udpClients.set(peer.identity.peerId, client);
    }
    return client;
  }

  async announce(hash: string, peer: TestPeer, more: Partial<AnnounceParams> = {}): Promise<AnnounceReply> {
    const params: AnnounceParams = {
      infoHash: hash,
      event: 'started',
      numwant: 50,
      port: peer.port,
      left: 1_000_000,
      compact: true,
      noPeerId: true,
      key: randomInt(0, 2 ** 31),
      ...more,
    };
    if (params.event !== 'stopped') this.announced.set(hash + peer.identity.peerId, { hash, peer });
    const reply =
      this.tracker.transport === 'udp'
        ? await this.udpFor(peer).announce(params)
        : await httpAnnounce(this.tracker, params, { ...this.options, identity: peer.identity });
    if (reply.refusedHash) throw new HashRefused(reply);
    if (reply.failure !== null) throw new QueryError('failure', `failure reason: ${reply.failure}`);
    return reply;
  }

  async scrape(hash: string, peer: TestPeer): Promise<ScrapeReply> {
    const reply =
      this.tracker.transport === 'udp'
        ? await this.udpFor(peer).scrape([hash])
        : await httpScrape(this.tracker, [hash], { ...this.options, identity: peer.identity });
    if (reply.failure !== null) throw new QueryError('failure', `failure reason: ${reply.failure}`);
    return reply;
  }

  /** Stops every made-up peer, so the check leaves nothing behind. */
  async cleanUp(): Promise<void> {
    const all = [...this.announced.values()];
    this.announced.clear();
    for (const { hash, peer } of all) {
      await this.announce(hash, peer, { event: 'stopped', numwant: 0 }).catch(() => undefined);
    }
    for (const client of this.udpClients.values()) client.close();
  }
}

function sameHostUrl(u: TrackerUrl, scheme: 'http' | 'udp'): TrackerUrl {
  return parseTrackerUrl(`${scheme}://${hostForUrl(u.host)}:${u.port}/announce`);
}

async function addressesOf(host: string): Promise<{ v4: string[]; v6: string[] }> {
  const literal = isIP(host);
  if (literal === 4) return { v4: [host], v6: [] };
  if (literal === 6) return { v4: [], v6: [host] };
  const all = await lookup(host, { all: true }).catch(() => []);
  return { v4: all.filter((a) => a.family === 4).map((a) => a.address), v6: all.filter((a) => a.family === 6).map((a) => a.address) };
}

export async function runChecks(tracker: TrackerUrl, options: QueryOptions, check: CheckOptions = {}): Promise<CheckReport> {
  const items: CheckItem[] = [];
  const notes: string[] = [];
  const report: CheckReport = { items, notes };
  const add = (name: string, status: CheckStatus, detail: string): void => {
    items.push({ check: name, status, detail });
  };
  const hashOr = (): string => check.infoHash ?? randomHash();
  const hex = check.infoHash === undefined ? null : Buffer.from(check.infoHash, 'latin1').toString('hex');
  notes.push(hex === null ? 'announced on random info_hashes (a whitelist tracker refuses them: give one it tracks with -H)' : `announced on info_hash ${hex} (-H)`);
  const version = options.identity.version;
  const literal = isIP(tracker.host) !== 0;
  const { v4, v6 } = await addressesOf(tracker.host);
  if (v4.length === 0 && v6.length === 0) {
    add('dns', 'FAIL', `${tracker.host} has no A or AAAA address`);
    return report;
  }

  // Reachability per family: an address that is published but dead is a fault.
  const reachable: (4 | 6)[] = [];
  let refused = false;
  for (const [family, list] of [[4, v4], [6, v6]] as const) {
    const name = `reachable over IPv${family}`;
    if (list.length === 0) {
      // An IP literal names one family by itself: nothing to report for the other.
      if (!literal) add(name, 'WARN', `${tracker.host} has no ${family === 4 ? 'A' : 'AAAA'} record: IPv${family}-only clients cannot use it`);
      continue;
    }
    const prober = new Prober(tracker, { ...options, family });
    try {
      const reply = await prober.announce(hashOr(), testPeer(version), { numwant: 0 });
      reachable.push(family);
      add(name, 'PASS', `${reply.address} answered in ${reply.responseTimeMs} ms`);
    } catch (err) {
      if (err instanceof HashRefused) {
        refused = true;
        add(name, 'WARN', `reachable (${err.address} answered in ${err.responseTimeMs} ms), but ${REFUSED_HASH_HINT} (${err.message})`);
      } else if (err instanceof QueryError && err.kind === 'tls') {
        add(name, 'FAIL', `reachable, but ${err.message}`);
      } else {
        const why = errorText(err);
        // Only a host name has published (resolved) addresses; an IP literal is just itself.
        if (!literal) add(name, 'FAIL', `${tracker.host} resolves to ${list.join(', ')}, but ${why}`);
        else add(name, 'FAIL', why.includes(tracker.host) ? why : `${tracker.host}: ${why}`);
      }
    } finally {
      await prober.cleanUp();
    }
  }
  if (reachable.length === 0) {
    if (refused) notes.push('no further checks: they need an info_hash the tracker accepts (-H)');
    return report;
  }

  const family = reachable[0]!;
  const prober = new Prober(tracker, { ...options, family });
  const hash = hashOr();
  const [a, b, c, d] = [testPeer(version), testPeer(version), testPeer(version), testPeer(version)];
  try {
    // Announce, interval, BEP 24.
    let first: AnnounceReply;
    try {
      first = await prober.announce(hash, a);
      add(`${tracker.transport} announce`, 'PASS', `${first.address} answered in ${first.responseTimeMs} ms over IPv${family}`);
    } catch (err) {
      add(`${tracker.transport} announce`, statusOf(err), errorText(err));
      return report;
    }
    if (first.interval === null) add('interval', 'FAIL', 'no interval in the reply');
    else if (first.interval < MIN_INTERVAL || first.interval > MAX_INTERVAL) {
      add('interval', 'WARN', `${first.interval} s is outside ${MIN_INTERVAL}–${MAX_INTERVAL} s`);
    } else add('interval', 'PASS', `${first.interval} s`);
    if (tracker.transport !== 'udp') {
      add('external ip (BEP 24)', first.externalIp === null ? 'WARN' : 'PASS', first.externalIp ?? 'not sent');
    }

    // Scrape counts move after an announce (on the -H hash: a whitelist tracker has no other).
    const scrapeCheck = `${tracker.transport} scrape`;
    try {
      if (tracker.transport !== 'udp') scrapePathFor(tracker);
      const hash2 = hashOr();
      const before = (await prober.scrape(hash2, b)).files[0];
      await prober.announce(hash2, b, { numwant: 0 });
      const after = (await prober.scrape(hash2, b)).files[0];
      const was = before === undefined ? 0 : before.leechers;
      if (after !== undefined && after.leechers === was + 1) add(scrapeCheck, 'PASS', `leechers ${was} → ${after.leechers} after an announce`);
      else add(scrapeCheck, 'FAIL', `leechers did not move after an announce (${was} → ${after?.leechers ?? 'missing'})`);
    } catch (err) {
      add(scrapeCheck, statusOf(err), errorText(err));
    }

    // Three more peers; then the requester's own list and numwant.
    await prober.announce(hash, b, { numwant: 0 });
    await prober.announce(hash, c, { numwant: 0 });
    await prober.announce(hash, d, { numwant: 0 });
    const again = await prober.announce(hash, a);
    const self = again.peers.filter((p) => p.port === a.port && (first.externalIp === null || p.ip.replace(/^::ffff:/i, '') === first.externalIp));
    // BEP 3 does not forbid it; clients skip their own address anyway.
    if (self.length === 0) add('requester excluded', 'PASS', `${again.peers.length} peers, none of them the requester`);
    else add('requester excluded', 'WARN', `the requester's own address ${self[0]!.ip}:${a.port} came back (BEP 3 allows it; it wastes a slot of the list)`);
    const one = await prober.announce(hash, a, { numwant: 1 });
    if (one.peers.length > 1) add('numwant honoured', 'FAIL', `numwant=1 returned ${one.peers.length} peers`);
    else if (one.peers.length === 0) add('numwant honoured', 'WARN', 'numwant=1 returned no peers although 3 others are in the swarm');
    else add('numwant honoured', 'PASS', 'numwant=1 returned 1 peer');

    if (tracker.transport === 'udp') {
      add('compact peers', again.peers.length > 0 ? 'PASS' : 'WARN', 'UDP lists are always compact');
    } else {
      add('compact peers', again.peerFormat === 'compact' ? 'PASS' : 'WARN', `compact=1 gave ${again.peerFormat} peers`);
      try {
        const dict = await prober.announce(hash, a, { compact: false, noPeerId: false });
        add('non-compact peers', dict.peerFormat === 'dict' ? 'PASS' : 'WARN', dict.peerFormat === 'dict' ? `compact=0 gave a list of ${dict.peers.length} dictionaries` : `compact=0 gave ${dict.peerFormat} peers (BEP 23 allows it; old clients need dictionaries)`);
      } catch (err) {
        // opentracker answers HTTP 400: BEP 23 lets a tracker insist on compact lists.
        add('non-compact peers', 'WARN', `compact=0 refused: ${errorText(err)} (BEP 23 allows compact-only trackers; old clients need dictionaries)`);
      }
    }

    // IPv6: what an IPv6 client is given, now that the swarm has peers.
    if (reachable.includes(6)) {
      const six = new Prober(tracker, { ...options, family: 6 });
      try {
        const reply = await six.announce(hash, testPeer(version));
        if (reply.ipv4OnlyOverIpv6) add('IPv6 peers (BEP 7)', 'WARN', 'an IPv6 client got IPv4-only peers (no peers6 / 6-byte entries)');
        else {
          const mapped = reply.peers.filter((p) => p.type === 'ipv4-mapped').length;
          const native = reply.peers.filter((p) => p.type === 'ipv6').length;
          add('IPv6 peers (BEP 7)', reply.peers.length > 0 ? 'PASS' : 'WARN', `${reply.peers.length} peers for an IPv6 client: ${native} native IPv6, ${mapped} ::ffff:-mapped`);
        }
      } catch (err) {
        add('IPv6 peers (BEP 7)', statusOf(err), errorText(err));
      } finally {
        await six.cleanUp();
      }
    }
  } catch (err) {
    add('announces', statusOf(err), errorText(err));
  } finally {
    await prober.cleanUp();
  }

  // The other transport: given with --udp, else guessed on the same host and port.
  let other: TrackerUrl | null;
  const given = tracker.transport !== 'udp' && check.udpUrl !== undefined;
  if (tracker.transport === 'udp') other = sameHostUrl(tracker, 'http');
  else if (check.udpUrl !== undefined) {
    other = check.udpUrl;
    notes.push(`UDP probed at ${other.href} (--udp)`);
  } else if (tracker.transport === 'https') {
    other = null;
    notes.push('UDP not probed: the port of an https:// URL says nothing about a UDP port; give --udp URL to probe one');
  } else {
    other = sameHostUrl(tracker, 'udp');
    notes.push(`UDP probed on the HTTP port (${other.href}); give --udp URL if it listens elsewhere`);
  }
  if (other !== null) {
    const sameHost = other.host === tracker.host;
    const otherProber = new Prober(other, {
      ...options,
      ...(sameHost ? { family } : {}),
      timeoutMs: given ? options.timeoutMs : Math.min(options.timeoutMs, 5000),
    });
    const name = `${other.transport} announce`;
    try {
      const reply = await otherProber.announce(hashOr(), testPeer(version), { numwant: 0 });
      add(name, 'PASS', `${given ? 'answers' : 'also offered'} at ${other.href} (${reply.address}, ${reply.responseTimeMs} ms)`);
    } catch (err) {
      if (err instanceof HashRefused) add(name, 'WARN', `answers at ${other.href} (${err.address}), but ${errorText(err)}`);
      else if (given) add(name, 'FAIL', `${other.href}: ${errorText(err)}`);
      else add(name, 'WARN', `not offered at ${other.href}: ${errorText(err)}`);
    } finally {
      await otherProber.cleanUp();
    }
  }
  return report;
}
