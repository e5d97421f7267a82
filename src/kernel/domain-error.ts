/**
 * The one error type of the domain and the application layer. A `kind` says what went wrong
 * from the caller's side (the HTTP edge maps it to a status, the CLI to a message), `code` is
 * the stable machine-readable name clients match on, and `field` names the offending input
 * when there is one. Pure: no framework imports.
 */
export type ErrorKind =
  /** malformed input: a request field, a CLI flag, a file (400) */
  | 'invalid'
  /** missing or wrong credentials (401) */
  | 'unauthorized'
  /** the thing named does not exist (404) */
  | 'not-found'
  /** the state does not allow it now: lease, version, idempotency, lifecycle (409) */
  | 'conflict'
  /** well-formed values the domain cannot work with (422) */
  | 'unprocessable'
  /** a dependency (database, disk) is down or full; retry later (503) */
  | 'unavailable'
  /** a broken invariant: a bug (500) */
  | 'internal';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** stable identifier, e.g. 'LeaseConflict'; part of the API contract */
    readonly code: string,
    message: string,
    /** dotted path of the offending input (`body.loss`, `searchSpace.layers.0.ops`) */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(field && !message.startsWith(`${field}:`) ? `${field}: ${message}` : message, options);
    this.name = code;
  }
}

/** True when `error` is a DomainError with this code (for callers that handle one case). */
export function hasCode(error: unknown, code: string): error is DomainError {
  return error instanceof DomainError && error.code === code;
}
