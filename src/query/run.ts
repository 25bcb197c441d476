/** One query against one tracker (announce, scrape or full scrape), with retries. */
import { reverse } from 'node:dns/promises';
import { QueryError, UsageError } from './errors.js';
import { httpAnnounce, httpScrape } from './http-client.js';
import type { AnnounceParams, AnnounceReply, QueriedPeer, QueryOptions, ScrapeReply } from './types.js';
import { UdpTrackerClient } from './udp-client.js';
import type { TrackerUrl } from './url.js';

export type QueryMode = 'announce' | 'scrape' | 'full-scrape';

export interface QueryRequest {
  tracker: TrackerUrl;
  mode: QueryMode;
  /** Raw 20-byte info_hashes, latin1 (announce uses the first). */
  infoHashes: string[];
  params: AnnounceParams;
  options: QueryOptions;
  /** Reverse-DNS the peers. */
  lookup: boolean;
  /**
   * After an answered announce, announce event=stopped for the same peer,
   * so a one-off query leaves no phantom peer in the swarm (--no-stop: false).
   */
  stopAfter?: boolean;
}

export interface QueryResult {
  tracker: string;
  mode: QueryMode;
  /** Answered, without a failure reason. */
  ok: boolean;
  announce: AnnounceReply | null;
  scrape: ScrapeReply | null;
  /** Why there is no usable answer (network, timeout, HTTP status, decoding, failure reason). */
  error: string | null;
  errorKind: string | null;
  numwantRequested: number;
  attempts: number;
  /** The identity used (User-Agent). */
  userAgent: string;
  /** The event=stopped sent after the announce: null if none was sent, else 'sent' or why it failed. */
  stop: string | null;
}

const LOOKUP_TIMEOUT_MS = 3000;

async function reverseLookup(ip: string): Promise<string | null> {
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), LOOKUP_TIMEOUT_MS).unref());
  const lookup = reverse(ip.replace(/^::ffff:/i, '')).then(
    (names) => names[0] ?? null,
    () => null,
  );
  return Promise.race([lookup, timeout]);
}

/** Fills in `hostname` for each peer, a few lookups at a time. */
export async function lookupPeers(peers: QueriedPeer[]): Promise<void> {
  const queue = [...peers];
  const worker = async (): Promise<void> => {
    for (let peer = queue.shift(); peer !== undefined; peer = queue.shift()) peer.hostname = await reverseLookup(peer.ip);
  };
  await Promise.all(Array.from({ length: Math.min(8, peers.length) }, worker));
}

export async function runQuery(req: QueryRequest): Promise<QueryResult> {
  const result: QueryResult = {
    tracker: req.tracker.href,
    mode: req.mode,
    ok: false,
    announce: null,
    scrape: null,
    error: null,
    errorKind: null,
    numwantRequested: req.params.numwant,
    attempts: 1,
    userAgent: req.options.identity.userAgent,
    stop: null,
  };
  const udp = req.tracker.transport === 'udp' ? new UdpTrackerClient(req.tracker, req.options) : null;
  try {
    if (req.mode === 'announce') {
      const params = { ...req.params, infoHash: req.infoHashes[0]! };
      result.announce = udp !== null ? await udp.announce(params) : await httpAnnounce(req.tracker, params, req.options);
      result.error = result.announce.failure;
      if (req.stopAfter === true && params.event !== 'stopped' && result.announce.failure === null) {
        const stop = { ...params, event: 'stopped' as const, numwant: 0 };
        try {
          const reply = udp !== null ? await udp.announce(stop) : await httpAnnounce(req.tracker, stop, req.options);
          result.stop = reply.failure === null ? 'sent' : `refused: ${reply.failure}`;
        } catch (err) {
          result.stop = `failed: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
      if (req.lookup) await lookupPeers(result.announce.peers);
    } else {
      const hashes = req.mode === 'full-scrape' ? [] : req.infoHashes;
      result.scrape = udp !== null ? await udp.scrape(hashes) : await httpScrape(req.tracker, hashes, req.options);
      result.error = result.scrape.failure;
    }
    if (result.error !== null) result.errorKind = 'failure';
  } catch (err) {
    // In a batch, a URL without a scrape URL fails alone instead of stopping the run.
    if (err instanceof UsageError) {
      result.error = err.message;
      result.errorKind = 'usage';
    } else if (err instanceof QueryError) {
      result.error = err.message;
      result.errorKind = err.kind;
    } else throw err;
  } finally {
    udp?.close();
  }
  result.ok = result.error === null;
  return result;
}

export interface RetryPolicy {
  /** Attempts at most; null = until success. */
  maxAttempts: number | null;
  delayMs: number;
  /** Stop waiting (e.g. Ctrl-C). */
  signal?: AbortSignal;
  onRetry?: (attempt: number, last: QueryResult) => void;
}

/** Runs the query until it succeeds or the attempts run out. */
export async function runWithRetry(req: QueryRequest, policy: RetryPolicy, fresh: () => QueryRequest = () => req): Promise<QueryResult> {
  let attempt = 1;
  for (;;) {
    const result = await runQuery(attempt === 1 ? req : fresh());
    result.attempts = attempt;
    if (result.ok || (policy.maxAttempts !== null && attempt >= policy.maxAttempts) || policy.signal?.aborted === true) return result;
    policy.onRetry?.(attempt, result);
    await new Promise((resolve) => setTimeout(resolve, policy.delayMs));
    attempt++;
  }
}
