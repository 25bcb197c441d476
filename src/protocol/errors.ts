/**
 * The error catalogue: every error a client can be told, by stable code.
 * The text is safe to show a client: it becomes the bencoded `failure reason`
 * of an HTTP reply and the message of a BEP 15 action-3 packet, the same
 * words on both. A detail (which field, how many) is appended after a colon.
 * Internal errors never travel this way: `errorReply` turns anything that is
 * not a ProtocolError into `internal_error`, whose text says nothing more.
 */

interface ErrorSpec {
  /** What the client is told. */
  readonly text: string;
  /** A well-formed request the tracker will not serve (counted as a refusal), not a bad one. */
  readonly refusal?: true;
  /** Logged where it arises (one line per outage), not per reply. */
  readonly quiet?: true;
}

export const ERRORS = {
  // Announce and scrape parameters (HTTP query, BEP 15 packet).
  missing_info_hash: { text: 'missing info_hash' },
  invalid_info_hash: { text: 'invalid info_hash: must be 20 bytes' },
  missing_peer_id: { text: 'missing peer_id' },
  invalid_peer_id: { text: 'invalid peer_id: must be 20 bytes' },
  missing_port: { text: 'missing port' },
  invalid_port: { text: 'invalid port: must be 1-65535' },
  invalid_event: { text: 'invalid event' },
  invalid_numwant: { text: 'invalid numwant: must be an integer' },
  invalid_uploaded: { text: 'invalid uploaded: must be a non-negative integer' },
  invalid_downloaded: { text: 'invalid downloaded: must be a non-negative integer' },
  invalid_left: { text: 'invalid left: must be a non-negative integer' },
  bad_forwarded_for: { text: "cannot tell the client's address (X-Forwarded-For from a trusted proxy is malformed)" },
  // BEP 15 requests.
  short_packet: { text: 'packet shorter than 16 bytes' },
  bad_protocol_id: { text: 'bad protocol id' },
  bad_connection_id: { text: 'invalid connection id' },
  short_announce: { text: 'announce too short' },
  short_scrape: { text: 'scrape without info_hash' },
  unknown_action: { text: 'unknown action' },
  // WebSocket (WebTorrent) messages.
  bad_json: { text: 'invalid message: not a JSON object' },
  invalid_action: { text: 'invalid action' },
  invalid_offer: { text: 'invalid offer' },
  invalid_answer: { text: 'invalid answer' },
  too_many_offers: { text: 'too many offers in one announce' },
  unknown_offer: { text: 'answer to an offer this tracker did not send you', refusal: true },
  too_many_swarms: { text: 'this connection is in too many swarms', refusal: true },
  rate_limited: { text: 'too many messages: slow down', refusal: true },
  // The tracker's rules.
  torrent_limit: { text: 'this tracker is full: it takes no new torrents now', refusal: true },
  // --allow-list (not on it) and --deny-list (on it): the client is told the same.
  torrent_not_allowed: { text: 'torrent not allowed on this tracker', refusal: true },
  torrent_denied: { text: 'torrent not allowed on this tracker', refusal: true },
  full_scrape_disabled: { text: 'full scrape is disabled on this tracker', refusal: true },
  too_many_hashes: { text: 'too many info_hashes in one scrape' },
  internal_error: { text: 'internal tracker error' },
  store_unavailable: { text: 'tracker storage is unavailable, try again later', quiet: true },
  // Replies, as the query tool decodes them.
  bad_bencode: { text: 'invalid bencode' },
  short_reply: { text: 'reply too short' },
  bad_reply_length: { text: 'scrape reply is not 8 + 12n bytes' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The one error type the codec and the service throw; its message is safe to show a client. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string) {
    const text: string = ERRORS[code].text;
    // "invalid info_hash: must be 20 bytes, got 19"; "invalid event: \"x\"".
    super(detail === undefined ? text : `${text}${text.includes(':') ? ',' : ':'} ${detail}`);
    this.code = code;
  }
}

export function isProtocolError(err: unknown): err is ProtocolError {
  return err instanceof ProtocolError;
}

/** What a frontend sends for an error, and how it counts it. */
export interface ErrorReply {
  code: ErrorCode;
  /** The HTTP `failure reason` / UDP action-3 message. */
  text: string;
  /** Not the client's fault: log it in full, tell the client nothing more. */
  internal: boolean;
  refusal: boolean;
  /** Already logged by whoever knows the cause (the store's outage line): frontends stay silent. */
  quiet: boolean;
}

/** The reply policy every frontend uses. */
export function errorReply(err: unknown): ErrorReply {
  if (isProtocolError(err)) {
    const spec: ErrorSpec = ERRORS[err.code];
    return { code: err.code, text: err.message, internal: false, refusal: spec.refusal === true, quiet: spec.quiet === true };
  }
  return { code: 'internal_error', text: ERRORS.internal_error.text, internal: true, refusal: false, quiet: false };
}
