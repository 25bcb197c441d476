/**
 * The one error type the codec throws. Its message is safe to show a client
 * (it becomes a bencoded `failure reason` or a BEP 15 error packet); internal
 * errors never travel this way.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** Stable machine-readable code, for logs and tests. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export function isProtocolError(err: unknown): err is ProtocolError {
  return err instanceof ProtocolError;
}
