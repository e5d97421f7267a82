export type ExpectedVersion = number | 'any' | 'no-stream';

/** The stream is not at the version the appender expected (optimistic concurrency). */
export class VersionConflictError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`version conflict on stream '${streamId}': expected ${expected}, actual ${actual}`);
    this.name = 'VersionConflictError';
  }
}

/** An idempotency key was reused for a different event, or a retried batch only partly matches. */
export class IdempotencyConflictError extends Error {
  constructor(
    readonly streamId: string,
    readonly idempotencyKey: string,
    reason: string,
  ) {
    super(`idempotency conflict on stream '${streamId}', key '${idempotencyKey}': ${reason}`);
    this.name = 'IdempotencyConflictError';
  }
}
