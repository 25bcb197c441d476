/**
 * The WebTorrent tracker protocol over WebSocket, as webtorrent's
 * bittorrent-tracker client speaks it: JSON text frames; `info_hash`,
 * `peer_id`, `to_peer_id` and `offer_id` are 20-character latin1 strings
 * (each character one byte). Pure functions: no sockets here.
 */
import { ProtocolError } from './errors.js';
import type { AnnounceEvent } from './types.js';

/** An SDP offer or answer, passed on as the browser made it (only its size is checked). */
export interface SessionDescription {
  type: string;
  sdp: string;
}

export interface WsOffer {
  offer: SessionDescription;
  offerId: string;
}

export interface WsAnnounce {
  action: 'announce';
  infoHash: string;
  peerId: string;
  /** null: the client did not say (webtorrent sends Infinity, which JSON writes as null). */
  left: number | null;
  event: AnnounceEvent;
  offers: WsOffer[];
}

/** An answer to an offer: not an announce (it adds nobody to the swarm). */
export interface WsAnswer {
  action: 'answer';
  infoHash: string;
  peerId: string;
  toPeerId: string;
  offerId: string;
  answer: SessionDescription;
}

export interface WsScrape {
  action: 'scrape';
  infoHashes: string[];
}

export type WsRequest = WsAnnounce | WsAnswer | WsScrape;

/** Most bytes of one SDP (browsers make a few KiB). */
export const MAX_SDP = 16 * 1024;

const EVENTS: Record<string, AnnounceEvent> = { started: 'started', completed: 'completed', stopped: 'stopped', update: 'none', '': 'none' };

function id20(v: unknown, field: 'info_hash' | 'peer_id' | 'to_peer_id' | 'offer_id'): string {
  // Each character one byte: a code point above 0xff is not latin1.
  if (typeof v !== 'string' || v.length !== 20 || !/^[\x00-\xff]{20}$/.test(v)) {
    const code = field === 'info_hash' ? 'invalid_info_hash' : field === 'peer_id' || field === 'to_peer_id' ? 'invalid_peer_id' : 'invalid_offer';
    throw new ProtocolError(code, `${field} must be a 20-character string`);
  }
  return v;
}

function description(v: unknown, code: 'invalid_offer' | 'invalid_answer'): SessionDescription {
  if (typeof v !== 'object' || v === null) throw new ProtocolError(code);
  const { type, sdp } = v as Record<string, unknown>;
  if (typeof type !== 'string' || type.length > 16 || typeof sdp !== 'string' || sdp.length > MAX_SDP) throw new ProtocolError(code);
  return { type, sdp };
}

function left(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return null;
  if (n < 0) throw new ProtocolError('invalid_left');
  return n;
}

/** One text frame → a request; anything else throws a ProtocolError whose text the client may be told. */
export function decodeWsMessage(text: string, maxOffers: number): WsRequest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_json');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new ProtocolError('bad_json');
  const msg = m as Record<string, unknown>;
  if (msg['action'] === 'scrape') {
    const raw = msg['info_hash'];
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    return { action: 'scrape', infoHashes: list.map((h) => id20(h, 'info_hash')) };
  }
  if (msg['action'] !== 'announce') throw new ProtocolError('invalid_action');
  if (msg['info_hash'] === undefined) throw new ProtocolError('missing_info_hash');
  if (msg['peer_id'] === undefined) throw new ProtocolError('missing_peer_id');
  const infoHash = id20(msg['info_hash'], 'info_hash');
  const peerId = id20(msg['peer_id'], 'peer_id');
  if (msg['answer'] !== undefined) {
    return {
      action: 'answer',
      infoHash,
      peerId,
      toPeerId: id20(msg['to_peer_id'], 'to_peer_id'),
      offerId: id20(msg['offer_id'], 'offer_id'),
      answer: description(msg['answer'], 'invalid_answer'),
    };
  }
  const ev = msg['event'] ?? '';
  const event = typeof ev === 'string' ? EVENTS[ev] : undefined;
  if (event === undefined) throw new ProtocolError('invalid_event', JSON.stringify(ev).slice(0, 40));
  const rawOffers = msg['offers'] ?? [];
  if (!Array.isArray(rawOffers)) throw new ProtocolError('invalid_offer');
  if (rawOffers.length > maxOffers) throw new ProtocolError('too_many_offers', `${rawOffers.length}, at most ${maxOffers}`);
  const offers = rawOffers.map((o: unknown): WsOffer => {
    if (typeof o !== 'object' || o === null) throw new ProtocolError('invalid_offer');
    const r = o as Record<string, unknown>;
    return { offer: description(r['offer'], 'invalid_offer'), offerId: id20(r['offer_id'], 'offer_id') };
  });
  return { action: 'announce', infoHash, peerId, left: left(msg['left']), event, offers };
}

export function encodeAnnounceReply(infoHash: string, interval: number, complete: number, incomplete: number): string {
  return JSON.stringify({ action: 'announce', interval, info_hash: infoHash, complete, incomplete });
}

/** An offer passed on to another peer of the swarm. */
export function encodeOffer(infoHash: string, fromPeerId: string, offer: WsOffer): string {
  return JSON.stringify({ action: 'announce', info_hash: infoHash, peer_id: fromPeerId, offer: offer.offer, offer_id: offer.offerId });
}

/** An answer passed back to the peer whose offer it answers. */
export function encodeAnswer(a: WsAnswer): string {
  return JSON.stringify({ action: 'announce', info_hash: a.infoHash, peer_id: a.peerId, answer: a.answer, offer_id: a.offerId });
}

export function encodeScrapeReply(files: readonly { infoHash: string; complete: number; incomplete: number; downloaded: number }[]): string {
  const out: Record<string, { complete: number; incomplete: number; downloaded: number }> = {};
  for (const f of files) out[f.infoHash] = { complete: f.complete, incomplete: f.incomplete, downloaded: f.downloaded };
  return JSON.stringify({ action: 'scrape', files: out });
}

/** A failure; with the info_hash and action when known, so the client can tell which announce failed. */
export function encodeFailure(reason: string, context?: { action: string; infoHash?: string }): string {
  return JSON.stringify({ 'failure reason': reason, ...(context !== undefined && { action: context.action, ...(context.infoHash !== undefined && { info_hash: context.infoHash }) }) });
}
