/**
 * What happened, as the frontends report it. The stats collector implements
 * this (and the metrics exporter will): frontends never import either, and a
 * new consumer is one more implementation, not a change in every frontend.
 */
import type { ErrorCode } from '../protocol/errors.js';
import type { Transport } from '../protocol/types.js';

export type ConnectionFailure = 'tls_handshake' | 'accept';

export interface TrackerEvents {
  /** An announce answered; `ipBytes` is the client's raw address (4 or 16 bytes, latin1). */
  announced(transport: Transport, ipBytes: string): void;
  /** A scrape answered. */
  scraped(transport: Transport, ipBytes: string): void;
  /** A request answered with an error (a refusal or a bad request), by catalogue code. */
  refused(transport: Transport, code: ErrorCode): void;
  /** A reply sent: bytes on the wire (body or datagram), bytes gzip saved, seconds since the request arrived. */
  replied(transport: Transport, bytes: number, gzipSaved: number, seconds: number): void;
  /** A connection lost before any request: a TLS handshake that failed or stalled, a connection not accepted. */
  connectionFailed(reason: ConnectionFailure): void;
}

/** Sends every event to each of `sinks` (stats and metrics side by side). */
export function fanOut(sinks: readonly TrackerEvents[]): TrackerEvents {
  if (sinks.length === 1) return sinks[0]!;
  return {
    announced(t, ip) {
      for (const s of sinks) s.announced(t, ip);
    },
    scraped(t, ip) {
      for (const s of sinks) s.scraped(t, ip);
    },
    refused(t, code) {
      for (const s of sinks) s.refused(t, code);
    },
    replied(t, bytes, saved, seconds) {
      for (const s of sinks) s.replied(t, bytes, saved, seconds);
    },
    connectionFailed(reason) {
      for (const s of sinks) s.connectionFailed(reason);
    },
  };
}
