import { DomainError } from '../kernel/domain-error.js';

export type ExpectedVersion = number | 'any' | 'no-stream';

/** The stream is not at the version the appender expected (optimistic concurrency). */
export class VersionConflictError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super('conflict', 'VersionConflictError', `version conflict on stream '${streamId}': expected ${expected}, actual ${actual}`);
  }
}

/** An idempotency key was reused for a different event, or a retried batch only partly matches. */
export class IdempotencyConflictError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly idempotencyKey: string,
    reason: string,
  ) {
    super('conflict', 'IdempotencyConflictError', `idempotency conflict on stream '${streamId}', key '${idempotencyKey}': ${reason}`);
  }
}
