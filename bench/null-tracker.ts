/**
 * A tracker with no store, for `npm run bench -- --vs null`: the same
 * node:dgram and node:http paths and codec as Wildkat, fixed answers (50
 * peers), nothing kept. What Wildkat does per request beyond this is the
 * store, the service and the bookkeeping: the runtime's own ceiling.
 *
 *   node --import tsx bench/null-tracker.ts UDP_PORT HTTP_PORT
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { encodeAnnounceReply, encodeScrapeReply } from '../src/protocol/http.js';
import { peerSetOf, peerEntry } from '../src/protocol/peers.js';
import { decodeRequest, encodeAnnounceResponse, encodeConnectResponse, encodeScrapeResponse } from '../src/protocol/udp.js';

const [udpPort, httpPort] = process.argv.slice(2).map(Number) as [number, number];
const peers = peerSetOf(Array.from({ length: 50 }, (_, i) => peerEntry('p'.repeat(20), String.fromCharCode(10, 0, 0, i, 0x1a, 0xe1))), 4);
const result = { complete: 10, incomplete: 40, downloaded: 0, interval: 1800, minInterval: 900, peers };
const connectionId = Buffer.alloc(8, 7);

const socket = createSocket({ type: 'udp4', lookup: (address, _family, callback) => callback(null, address, 4) });
socket.on('message', (msg, rinfo) => {
  try {
    const req = decodeRequest(msg);
    let out: Buffer;
    if (req.action === 'connect') out = encodeConnectResponse(req.transactionId, connectionId);
    else if (req.action === 'announce') out = encodeAnnounceResponse(req.transactionId, result, 4);
    else out = encodeScrapeResponse(req.transactionId, req.infoHashes.map(() => result));
    socket.send(out, rinfo.port, rinfo.address);
  } catch {
    // a bad packet: no answer
  }
});
socket.bind(udpPort, '127.0.0.1');

const announceBody = encodeAnnounceReply(result, { family: 4, compact: true, noPeerId: true, trackerId: 'null', externalIp: null });
const scrapeBody = encodeScrapeReply([{ infoHash: '\0'.repeat(20), complete: 0, incomplete: 0, downloaded: 0 }], 900);
createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const body = req.url?.startsWith('/scrape') === true ? scrapeBody : announceBody;
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
}).listen(httpPort, '127.0.0.1');
