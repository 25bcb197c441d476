/**
 * What happened, as the frontends report it. The stats collector implements
 * this, and the metrics read its counters: frontends never import either, and a
 * new consumer is one more implementation, not a change in every frontend.
 */
import type { ErrorCode } from '../protocol/errors.js';
import type { Transport } from '../protocol/types.js';

export type ConnectionFailure = 'tls_handshake' | 'accept';

export interface TrackerEvents {
  /** An announce answered; `ipBytes` is the client's raw address (4 or 16 bytes, latin1). */
  announced(transport: Transport, ipBytes: string): void;
  /** A BEP 15 connect answered. */
  connected(transport: Transport, ipBytes: string): void;
  /** A scrape answered. */
  scraped(transport: Transport, ipBytes: string): void;
  /** A request answered with an error (a refusal or a bad request), by catalogue code. */
  refused(transport: Transport, code: ErrorCode): void;
  /** A reply sent: bytes on the wire (body or datagram), bytes gzip saved, seconds since the request arrived. */
  replied(transport: Transport, bytes: number, gzipSaved: number, seconds: number): void;
  /** A connection lost before any request: a TLS handshake that failed or stalled, a connection not accepted. */
  connectionFailed(reason: ConnectionFailure): void;
}
