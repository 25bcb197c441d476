/**
 * A BEP 15 client: connect, announce, scrape, with the BEP's retransmission
 * schedule (15 · 2^n seconds, capped by the overall timeout), replies
 * matched by transaction id and checked for length, and BEP 41 URL data.
 * The socket is connected (dgram connect), so an ICMP port unreachable
 * comes back as ECONNREFUSED at once instead of running out the timeout.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isProtocolError } from '../protocol/errors.js';
import { decodeCompactPeers } from '../protocol/peers.js';
import {
  decodeResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  MAX_SCRAPE_HASHES_PER_PACKET,
  type UdpResponse,
} from '../protocol/udp.js';
import { errnoText, QueryError, refusesInfoHash } from './errors.js';
import type { AnnounceParams, AnnounceReply, QueriedPeer, QueryOptions, ScrapeReply } from './types.js';
import type { TrackerUrl } from './url.js';

const BEP15_BASE_MS = 15_000;
/** A connection id may be used for one minute (BEP 15). */
const CONNECTION_ID_USE_MS = 60_000;
const ACTION_ANNOUNCE = 1;

/** An announce reply of 8 bytes (action and transaction id only): opentracker's answer for an info_hash not on its whitelist. */
interface EmptyAnnounce {
  action: 'empty-announce';
  transactionId: number;
}

export const EMPTY_ANNOUNCE_TEXT = 'empty announce reply (8 bytes: no interval, counts or peers), as opentracker answers an info_hash not on its whitelist';

export async function resolveHost(host: string, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }> {
  try {
    const r = await lookup(host, family === undefined ? {} : { family });
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
    throw new QueryError('network', `cannot resolve ${host}${family ? ` (IPv${family})` : ''}: ${code}`);
  }
}

export class UdpTrackerClient {
  private socket: Socket | null = null;
  private connectionId: Buffer | null = null;
  private connectedAt = 0;
  private target: { address: string; family: 4 | 6 } | null = null;
  private readonly tracker: TrackerUrl;
  private readonly options: QueryOptions;
  /** Replies that carried a transaction id we did not send (a tracker fault). */
  wrongTransactionIds = 0;

  constructor(tracker: TrackerUrl, options: QueryOptions) {
    this.tracker = tracker;
    this.options = options;
  }

  private async open(): Promise<{ socket: Socket; address: string; family: 4 | 6 }> {
    if (this.socket === null || this.target === null) {
      const target = await resolveHost(this.tracker.host, this.options.family);
      const socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
      socket.on('error', () => {
        /* a pending exchange reports errors through its own listener */
      });
      await new Promise<void>((resolve, reject) => {
        socket.connect(this.tracker.port, target.address, (err?: Error) => {
          if (err === undefined || err === null) resolve();
          else {
            socket.close();
            reject(new QueryError('network', `cannot reach ${target.address}:${this.tracker.port}: ${errnoText(err as NodeJS.ErrnoException)}`));
          }
        });
      });
      this.target = target;
      this.socket = socket;
    }
    return { socket: this.socket, ...this.target };
  }

  /**
   * Sends `packet` and waits for the reply carrying `transactionId`,
   * retransmitting after 15 s, 30 s, 60 s … until `deadline`.
   */
  private async exchange(build: (tx: number) => Buffer, deadline: number): Promise<UdpResponse | EmptyAnnounce> {
    const { socket, address } = await this.open();
    const transactionId = randomInt(0, 2 ** 32);
    const packet = build(transactionId);
    const base = this.options.udpRetransmitBaseMs ?? BEP15_BASE_MS;
    return new Promise((resolve, reject) => {
      let attempt = 0;
      let timer: NodeJS.Timeout | null = null;
      let malformed: string | null = null;
      let done = false;
      const finish = (err: Error | null, value?: UdpResponse | EmptyAnnounce): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        socket.off('message', onMessage);
        socket.off('error', onError);
        if (err) reject(err);
        else resolve(value!);
      };
      const onError = (err: NodeJS.ErrnoException): void => {
        if (err.code === 'ECONNREFUSED') {
          finish(new QueryError('refused', `refused: ICMP port unreachable from ${address}:${this.tracker.port} (ECONNREFUSED): nothing listens on that UDP port`));
        } else finish(new QueryError('network', `${address}:${this.tracker.port}: ${errnoText(err)}`));
      };
      const onMessage = (msg: Buffer): void => {
        if (msg.length >= 8 && msg.readUInt32BE(4) !== transactionId) {
          this.wrongTransactionIds++;
          return;
        }
        if (msg.length === 8 && msg.readUInt32BE(0) === ACTION_ANNOUNCE) {
          finish(null, { action: 'empty-announce', transactionId });
          return;
        }
        try {
          finish(null, decodeResponse(msg));
        } catch (err) {
          malformed = isProtocolError(err) ? err.message : String(err);
        }
      };
      const sendAttempt = (): void => {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          const why = malformed
            ? `malformed reply: ${malformed}`
            : this.wrongTransactionIds > 0
              ? `only replies with the wrong transaction id (${this.wrongTransactionIds})`
              : `no reply within ${this.options.timeoutMs} ms`;
          finish(new QueryError(malformed || this.wrongTransactionIds > 0 ? 'protocol' : 'timeout', why));
          return;
        }
        socket.send(packet, (err) => {
          if (err) finish(new QueryError('network', `cannot send to ${address}:${this.tracker.port}: ${errnoText(err as NodeJS.ErrnoException)}`));
        });
        timer = setTimeout(sendAttempt, Math.min(base * 2 ** attempt, remaining));
        attempt++;
      };
      socket.on('message', onMessage);
      socket.on('error', onError);
      sendAttempt();
    });
  }

  private async connectionIdFor(deadline: number): Promise<Buffer> {
    if (this.connectionId !== null && Date.now() - this.connectedAt < CONNECTION_ID_USE_MS) return this.connectionId;
    const reply = await this.exchange((tx) => encodeConnectRequest(tx), deadline);
    if (reply.action === 'error') throw new QueryError('failure', reply.message);
    if (reply.action !== 'connect') throw new QueryError('protocol', `expected a connect reply, got ${reply.action}`);
    this.connectionId = reply.connectionId;
    this.connectedAt = Date.now();
    return reply.connectionId;
  }

  async announce(p: AnnounceParams): Promise<AnnounceReply> {
    const started = Date.now();
    const deadline = started + this.options.timeoutMs;
    const connectionId = await this.connectionIdFor(deadline);
    const urlData = this.tracker.pathAndQuery === '/' ? '' : this.tracker.pathAndQuery;
    const reply = await this.exchange(
      (tx) =>
        encodeAnnounceRequest({
          connectionId,
          transactionId: tx,
          key: p.key,
          urlData,
          announce: {
            infoHash: p.infoHash,
            peerId: this.options.identity.peerId,
            port: p.port,
            uploaded: 0,
            downloaded: 0,
            left: p.left,
            event: p.event,
            numwant: p.numwant,
          },
        }),
      deadline,
    );
    const responseTimeMs = Date.now() - started;
    const { address, family } = this.target!;
    const base = { address, family, responseTimeMs, redirects: [] as string[] };
    if (reply.action === 'error') return { ...emptyAnnounce(base), failure: reply.message, refusedHash: refusesInfoHash(reply.message) };
    if (reply.action === 'empty-announce') return { ...emptyAnnounce(base), failure: EMPTY_ANNOUNCE_TEXT, refusedHash: true };
    if (reply.action !== 'announce') throw new QueryError('protocol', `expected an announce reply, got ${reply.action}`);
    // Over IPv6 peers are 18 bytes (BEP 15); a tracker that sends 6-byte entries there is not IPv6-aware.
    let size: 6 | 18 = family === 6 ? 18 : 6;
    let ipv4OnlyOverIpv6 = false;
    if (family === 6 && reply.peers.length % 18 !== 0 && reply.peers.length % 6 === 0) {
      size = 6;
      ipv4OnlyOverIpv6 = reply.peers.length > 0;
    }
    if (reply.peers.length % size !== 0) {
      throw new QueryError('protocol', `announce reply of ${20 + reply.peers.length} bytes is not 20 + ${size}·n`);
    }
    const peers: QueriedPeer[] = decodeCompactPeers(reply.peers, size === 6 ? 4 : 6).map((peer) => ({
      ip: peer.ip,
      port: peer.port,
      type: size === 6 ? 'ipv4' : /^::ffff:[0-9.]+$/i.test(peer.ip) ? 'ipv4-mapped' : 'ipv6',
      peerId: null,
    }));
    return {
      ...emptyAnnounce(base),
      interval: reply.interval,
      seeders: reply.seeders,
      leechers: reply.leechers,
      peers,
      ipv4Bytes: size === 6 ? reply.peers.length : 0,
      ipv6Bytes: size === 18 ? reply.peers.length : 0,
      peerFormat: 'compact',
      ipv4OnlyOverIpv6,
    };
  }

  async scrape(infoHashes: readonly string[]): Promise<ScrapeReply> {
    if (infoHashes.length === 0) throw new QueryError('protocol', 'UDP trackers have no full scrape (BEP 15 needs at least one info_hash)');
    if (infoHashes.length > MAX_SCRAPE_HASHES_PER_PACKET) {
      throw new QueryError('protocol', `at most ${MAX_SCRAPE_HASHES_PER_PACKET} info_hashes fit one UDP scrape`);
    }
    const started = Date.now();
    const deadline = started + this.options.timeoutMs;
    const connectionId = await this.connectionIdFor(deadline);
    const reply = await this.exchange((tx) => encodeScrapeRequest(connectionId, tx, infoHashes), deadline);
    const { address, family } = this.target!;
    const base = { address, family, responseTimeMs: Date.now() - started, redirects: [] as string[], minRequestInterval: null };
    if (reply.action === 'error') return { ...base, files: [], failure: reply.message };
    if (reply.action !== 'scrape') throw new QueryError('protocol', `expected a scrape reply, got ${reply.action}`);
    if (reply.files.length !== infoHashes.length) {
      throw new QueryError('protocol', `scrape reply has ${reply.files.length} entries for ${infoHashes.length} info_hashes`);
    }
    return {
      ...base,
      failure: null,
      files: reply.files.map((f, i) => ({
        infoHash: Buffer.from(infoHashes[i]!, 'latin1').toString('hex'),
        seeders: f.complete,
        leechers: f.incomplete,
        downloaded: f.downloaded,
      })),
    };
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}

function emptyAnnounce(base: { address: string; family: 4 | 6; responseTimeMs: number; redirects: string[] }): AnnounceReply {
  return {
    ...base,
    interval: null,
    minInterval: null,
    seeders: null,
    leechers: null,
    downloaded: null,
    peers: [],
    ipv4Bytes: 0,
    ipv6Bytes: 0,
    peerFormat: 'none',
    ipv4OnlyOverIpv6: false,
    warning: null,
    failure: null,
    refusedHash: false,
    externalIp: null,
    trackerId: null,
  };
}
