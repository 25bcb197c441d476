/** Why a query failed, as the CLI reports it (exit code 1: the tracker; 2: the user). */
export type QueryErrorKind = 'timeout' | 'failure' | 'http-status' | 'undecodable' | 'network' | 'protocol';

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
