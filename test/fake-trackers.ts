/** Small misbehaving trackers for wildkat-query's tests. Each listens on loopback, port 0. */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { encode } from '../src/protocol/bencode.js';
import { parseQuery } from '../src/protocol/http.js';

export interface FakeHttp {
  server: Server;
  port: number;
  /** Requests received, in order. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

export type Reply = { status: number; body: Buffer } | { hang: true };

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

export async function fakeHttp(host: string, reply: (req: IncomingMessage, query: Map<string, string[]>) => Reply): Promise<FakeHttp> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const url = req.url ?? '/';
    const r = reply(req, parseQuery(url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''));
    if ('hang' in r) return; // never answers
    let body = r.body;
    const headers: Record<string, string | number> = { 'Content-Type': 'text/plain' };
    if (/gzip/.test(String(req.headers['accept-encoding']))) {
      body = gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    res.writeHead(r.status, headers);
    res.end(body);
  });
  const port = await listen(server, host);
  return {
    server,
    port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Ten IPv4 peers in `peers`, whatever was asked: ignores numwant and gives IPv6 clients IPv4-only peers. */
export function ipv4OnlyTracker(): (req: IncomingMessage, query: Map<string, string[]>) => Reply {
  const peers = Buffer.alloc(60);
  for (let i = 0; i < 10; i++) {
    peers.set([10, 0, 0, i + 1], i * 6);
    peers.writeUInt16BE(6000 + i, i * 6 + 4);
  }
  return (req) => {
    if ((req.url ?? '').startsWith('/scrape')) return { status: 200, body: encode({ files: new Map() }) };
    return { status: 200, body: encode({ interval: 1800, complete: 4, incomplete: 6, peers }) };
  };
}

export interface FakeUdp {
  socket: Socket;
  port: number;
  /** Datagrams received, in order. */
  packets: Buffer[];
  close(): Promise<void>;
}

/** A UDP "tracker": `answer` returns the reply for a datagram, or null to stay silent. */
export async function fakeUdp(host: string, answer: (packet: Buffer, index: number) => Buffer | null): Promise<FakeUdp> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const packets: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    packets.push(msg);
    const reply = answer(msg, packets.length - 1);
    if (reply !== null) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, port: socket.address().port, packets, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** Answers every request with the transaction id off by one. */
export function wrongTransactionId(packet: Buffer): Buffer {
  const reply = Buffer.alloc(16);
  reply.writeUInt32BE(packet.readUInt32BE(8), 0); // same action
  reply.writeUInt32BE((packet.readUInt32BE(12) + 1) >>> 0, 4);
  reply.writeUInt32BE(0x12345678, 8);
  return reply;
}
