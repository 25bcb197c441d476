/**
 * `--check`: a compliance report for one tracker, in the spirit of
 * newTrackon's and chihaya's testers, run locally. It announces a few
 * made-up peers on fresh random info_hashes and stops them afterwards.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { QueryError } from './errors.js';
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

function errorText(err: unknown): string {
  return err instanceof QueryError ? err.message : String(err);
}

/** Talks to one tracker URL as several peers, over one address family. */
class Prober {
  private readonly udpClients = new Map<string, UdpTrackerClient>();
  private readonly announced: { hash: string; peer: TestPeer }[] = [];
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
    if (params.event !== 'stopped') this.announced.push({ hash, peer });
    const reply =
      this.tracker.transport === 'udp'
        ? await this.udpFor(peer).announce(params)
        : await httpAnnounce(this.tracker, params, { ...this.options, identity: peer.identity });
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
    for (const { hash, peer } of this.announced.splice(0)) {
      await this.announce(hash, peer, { event: 'stopped', numwant: 0 }).catch(() => undefined);
    }
    for (const client of this.udpClients.values()) client.close();
  }
}

function otherTransportUrl(u: TrackerUrl): TrackerUrl {
  const scheme = u.transport === 'udp' ? 'http' : 'udp';
  return parseTrackerUrl(`${scheme}://${hostForUrl(u.host)}:${u.port}/announce`);
}

async function addressesOf(host: string): Promise<{ v4: string[]; v6: string[] }> {
  const literal = isIP(host);
  if (literal === 4) return { v4: [host], v6: [] };
  if (literal === 6) return { v4: [], v6: [host] };
  const all = await lookup(host, { all: true }).catch(() => []);
  return { v4: all.filter((a) => a.family === 4).map((a) => a.address), v6: all.filter((a) => a.family === 6).map((a) => a.address) };
}

export async function runChecks(tracker: TrackerUrl, options: QueryOptions): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const add = (check: string, status: CheckStatus, detail: string): void => {
    items.push({ check, status, detail });
  };
  const version = options.identity.version;
  const { v4, v6 } = await addressesOf(tracker.host);
  if (v4.length === 0 && v6.length === 0) {
    add('dns', 'FAIL', `${tracker.host} has no A or AAAA address`);
    return items;
  }

  // Reachability per family: an address that is published but dead is a fault.
  const reachable: (4 | 6)[] = [];
  for (const [family, list] of [[4, v4], [6, v6]] as const) {
    const name = `reachable over IPv${family}`;
    if (list.length === 0) {
      // An IP literal names one family by itself: nothing to report for the other.
      if (isIP(tracker.host) === 0) add(name, 'WARN', `${tracker.host} has no ${family === 4 ? 'A' : 'AAAA'} record: IPv${family}-only clients cannot use it`);
      continue;
    }
    const prober = new Prober(tracker, { ...options, family });
    try {
      const reply = await prober.announce(randomBytes(20).toString('latin1'), testPeer(version), { numwant: 0 });
      reachable.push(family);
      add(name, 'PASS', `${reply.address} answered in ${reply.responseTimeMs} ms`);
    } catch (err) {
      add(name, 'FAIL', `${list.join(', ')} published but ${errorText(err)}`);
    } finally {
      await prober.cleanUp();
    }
  }
  if (reachable.length === 0) return items;

  const family = reachable[0]!;
  const prober = new Prober(tracker, { ...options, family });
  const hash = randomBytes(20).toString('latin1');
  const [a, b, c, d] = [testPeer(version), testPeer(version), testPeer(version), testPeer(version)];
  try {
    // Announce, interval, BEP 24.
    let first: AnnounceReply;
    try {
      first = await prober.announce(hash, a);
      add(`${tracker.transport} announce`, 'PASS', `answered in ${first.responseTimeMs} ms over IPv${family}`);
    } catch (err) {
      add(`${tracker.transport} announce`, 'FAIL', errorText(err));
      return items;
    }
    if (first.interval === null) add('interval', 'FAIL', 'no interval in the reply');
    else if (first.interval < MIN_INTERVAL || first.interval > MAX_INTERVAL) {
      add('interval', 'WARN', `${first.interval} s is outside ${MIN_INTERVAL}–${MAX_INTERVAL} s`);
    } else add('interval', 'PASS', `${first.interval} s`);
    if (tracker.transport !== 'udp') {
      add('external ip (BEP 24)', first.externalIp === null ? 'WARN' : 'PASS', first.externalIp ?? 'not sent');
    }

    // Scrape counts move after an announce.
    const scrapeCheck = `${tracker.transport} scrape`;
    try {
      if (tracker.transport !== 'udp') scrapePathFor(tracker);
      const hash2 = randomBytes(20).toString('latin1');
      const before = (await prober.scrape(hash2, b)).files[0];
      await prober.announce(hash2, b, { numwant: 0 });
      const after = (await prober.scrape(hash2, b)).files[0];
      const was = before === undefined ? 0 : before.leechers;
      if (after !== undefined && after.leechers === was + 1) add(scrapeCheck, 'PASS', `leechers ${was} → ${after.leechers} after an announce`);
      else add(scrapeCheck, 'FAIL', `leechers did not move after an announce (${was} → ${after?.leechers ?? 'missing'})`);
    } catch (err) {
      add(scrapeCheck, 'FAIL', errorText(err));
    }

    // Three more peers; then the requester's own list and numwant.
    await prober.announce(hash, b, { numwant: 0 });
    await prober.announce(hash, c, { numwant: 0 });
    await prober.announce(hash, d, { numwant: 0 });
    const again = await prober.announce(hash, a);
    const self = again.peers.filter((p) => p.port === a.port && (first.externalIp === null || p.ip.replace(/^::ffff:/i, '') === first.externalIp));
    add('requester excluded', self.length === 0 ? 'PASS' : 'FAIL', self.length === 0 ? `${again.peers.length} peers, none of them the requester` : `the requester's own address ${self[0]!.ip}:${a.port} came back`);
    const one = await prober.announce(hash, a, { numwant: 1 });
    if (one.peers.length > 1) add('numwant honoured', 'FAIL', `numwant=1 returned ${one.peers.length} peers`);
    else if (one.peers.length === 0) add('numwant honoured', 'WARN', 'numwant=1 returned no peers although 3 others are in the swarm');
    else add('numwant honoured', 'PASS', 'numwant=1 returned 1 peer');

    if (tracker.transport === 'udp') {
      add('compact peers', again.peers.length > 0 ? 'PASS' : 'WARN', 'UDP lists are always compact');
    } else {
      add('compact peers', again.peerFormat === 'compact' ? 'PASS' : 'WARN', `compact=1 gave ${again.peerFormat} peers`);
      const dict = await prober.announce(hash, a, { compact: false, noPeerId: false });
      add('non-compact peers', dict.peerFormat === 'dict' ? 'PASS' : 'WARN', dict.peerFormat === 'dict' ? `compact=0 gave a list of ${dict.peers.length} dictionaries` : `compact=0 gave ${dict.peerFormat} peers (BEP 23 allows it; old clients need dictionaries)`);
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
        add('IPv6 peers (BEP 7)', 'FAIL', errorText(err));
      } finally {
        await six.cleanUp();
      }
    }
  } catch (err) {
    add('announces', 'FAIL', errorText(err));
  } finally {
    await prober.cleanUp();
  }

  // The other transport on the same host and port, if offered.
  const other = otherTransportUrl(tracker);
  const otherProber = new Prober(other, { ...options, family, timeoutMs: Math.min(options.timeoutMs, 5000) });
  try {
    const reply = await otherProber.announce(randomBytes(20).toString('latin1'), testPeer(version), { numwant: 0 });
    add(`${other.transport} announce`, 'PASS', `also offered at ${other.href} (${reply.responseTimeMs} ms)`);
  } catch (err) {
    add(`${other.transport} announce`, 'WARN', `not offered at ${other.href}: ${errorText(err)}`);
  } finally {
    await otherProber.cleanUp();
  }
  return items;
}
