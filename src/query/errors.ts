/** Why a query failed, as the CLI reports it (exit code 1: the tracker; 2: the user). */
export type QueryErrorKind = 'timeout' | 'failure' | 'http-status' | 'undecodable' | 'network' | 'refused' | 'tls' | 'protocol';

export class QueryError extends Error {
  override readonly name = 'QueryError';
  readonly kind: QueryErrorKind;
  constructor(kind: QueryErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** A mistake in what the user asked for: exit code 2, message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Node's socket errors already name their code ("connect ECONNREFUSED
 * 127.0.0.1:80"); add the code only when the message lacks it.
 */
export function errnoText(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  const message = err.message ?? '';
  if (code === '' || message.includes(code)) return message || code || 'error';
  return message === '' ? code : `${code}: ${message}`;
}

/** TLS verification failures (OpenSSL codes Node passes on). */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The message for a network error: refused, untrusted certificate, or the error itself (its code once). */
export function networkError(err: NodeJS.ErrnoException): QueryError {
  if (err.code !== undefined && UNTRUSTED_CERT_CODES.has(err.code)) {
    return new QueryError('tls', `TLS certificate not trusted (${errnoText(err)}): trust its CA with --ca-cert FILE, or skip the check with -k`);
  }
  if (err.code === 'ECONNREFUSED') return new QueryError('refused', `connection refused (${errnoText(err)})`);
  return new QueryError('network', errnoText(err));
}

/**
 * Failure reasons trackers give for an info_hash they do not track
 * (a whitelist or a private tracker's unregistered torrent):
 * opentracker, XBT, Ocelot, chihaya, aquatic, torrust, wildkat.
 */
const HASH_REFUSAL =
  /not (?:been )?(?:authori[sz]ed|allowed|registered|whitelisted|approved|permitted|tracked)|unregistered|unapproved|unauthori[sz]ed|whitelist|allow.?list|unknown (?:torrent|info.?hash)|torrent (?:does not exist|not found)|info.?hash (?:not found|is not)/i;

export function refusesInfoHash(failure: string): boolean {
  return HASH_REFUSAL.test(failure);
}

/** What --check and the table say when a tracker answers but refuses the info_hash. */
export const REFUSED_HASH_HINT = 'refuses this info_hash (whitelist?) — give a hash it tracks with -H';
