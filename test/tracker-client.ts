/** Announce and scrape over UDP and HTTP for tests, each reply reduced to what a client learns. */
import { decodeCompactPeers } from '../src/protocol/peers.js';
import { buildAnnounceQuery, buildScrapeQuery, decodeAnnounceReply, decodeScrapeReply } from '../src/protocol/http-client.js';
import type { AnnounceEvent, SwarmCounts } from '../src/protocol/types.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from '../src/protocol/udp.js';
import { httpGet, UdpClient } from './helpers.js';

export interface Announce {
  infoHash: string;
  peerId: string;
  port: number;
  left?: number;
  event?: AnnounceEvent;
  numwant?: number;
}

export interface Outcome {
  /** Set when the tracker answered with an error (failure reason / action 3). */
  failure: string | null;
  complete: number;
  incomplete: number;
  /** Ports of the peers handed out (every test peer is on 127.0.0.1). */
  ports: number[];
}

let nextTx = 1;

export async function udpAnnounce(port: number, a: Announce, waitMs?: number): Promise<Outcome> {
  const client = new UdpClient(port);
  try {
    const c = decodeResponse(await client.request(encodeConnectRequest(nextTx++)));
    if (c.action !== 'connect') return { failure: c.action === 'error' ? c.message : c.action, complete: 0, incomplete: 0, ports: [] };
    client.send(
      encodeAnnounceRequest({
        connectionId: c.connectionId,
        transactionId: nextTx++,
        announce: { infoHash: a.infoHash, peerId: a.peerId, port: a.port, downloaded: 0, uploaded: 0, left: a.left ?? 100, event: a.event ?? 'started', numwant: a.numwant ?? 50 },
        key: 1,
      }),
    );
    const r = decodeResponse(await client.receive(waitMs));
    if (r.action === 'error') return { failure: r.message, complete: 0, incomplete: 0, ports: [] };
    if (r.action !== 'announce') throw new Error(`unexpected ${r.action} reply`);
    return { failure: null, complete: r.seeders, incomplete: r.leechers, ports: decodeCompactPeers(r.peers, 4).map((p) => p.port).sort() };
  } finally {
    client.close();
  }
}

export async function httpAnnounce(port: number, a: Announce): Promise<Outcome> {
  const query = buildAnnounceQuery({ infoHash: a.infoHash, peerId: a.peerId, port: a.port, left: a.left ?? 100, event: a.event ?? 'started', numwant: a.numwant ?? 50, compact: true, noPeerId: true, key: 1 });
  const reply = await httpGet(port, `/announce?${query}`);
  const d = decodeAnnounceReply(reply.body);
  if (d.failure !== null) return { failure: d.failure, complete: 0, incomplete: 0, ports: [] };
  return { failure: null, complete: d.complete ?? 0, incomplete: d.incomplete ?? 0, ports: d.peers.map((p) => p.port).sort() };
}

export async function udpScrape(port: number, hashes: readonly string[]): Promise<SwarmCounts[]> {
  const client = new UdpClient(port);
  try {
    const c = decodeResponse(await client.request(encodeConnectRequest(nextTx++)));
    if (c.action !== 'connect') throw new Error(`connect failed: ${c.action}`);
    const r = decodeResponse(await client.request(encodeScrapeRequest(c.connectionId, nextTx++, hashes)));
    if (r.action !== 'scrape') throw new Error(`scrape failed: ${r.action === 'error' ? r.message : r.action}`);
    return r.files;
  } finally {
    client.close();
  }
}

export async function httpScrape(port: number, hashes: readonly string[]): Promise<SwarmCounts[]> {
  const reply = await httpGet(port, `/scrape?${buildScrapeQuery(hashes)}`);
  const d = decodeScrapeReply(reply.body);
  if (d.failure !== null) throw new Error(`scrape failed: ${d.failure}`);
  return hashes.map((h) => {
    const hex = Buffer.from(h, 'latin1').toString('hex');
    const f = d.files.find((x) => x.infoHash === hex);
    return { complete: f?.complete ?? 0, incomplete: f?.incomplete ?? 0, downloaded: f?.downloaded ?? 0 };
  });
}
