/**
 * Errors of the HTTP layer itself: DomainErrors like the domain's, so the exception filter maps
 * them all through one kind → status table.
 */
import { DomainError } from '../../kernel/domain-error.js';

/** A request part failed validation; `field` is the dotted path (`body.loss`, `query.depth`). */
export class RequestValidationError extends DomainError {
  declare readonly field: string;

  constructor(field: string, reason: string) {
    super('invalid', 'RequestValidationError', reason, field);
  }
}

/** `minPosition` (or `at`) names a position the database has not reached within the wait. */
export class PositionNotReachedError extends DomainError {
  constructor(
    readonly requested: number,
    readonly waitedMs: number,
  ) {
    super('conflict', 'PositionNotReachedError', `position ${requested} was not reached within ${waitedMs} ms; retry later or ask for an earlier position`);
  }
}

/** Starting a search needs a trainer to evaluate candidates, and none is attached to this service. */
export class NoSearchLauncherError extends DomainError {
  constructor() {
    super('conflict', 'NoSearchLauncherError', 'no trainer attached to run a search: start the service with a trainer (or run the search from the CLI)');
  }
}

/** A what-if names a search the experiment never started (or had not started as of `at`). */
export class SearchNotFoundError extends DomainError {
  constructor(experimentId: string, searchId: string, at: number | undefined) {
    super('not-found', 'SearchNotFoundError', `experiment '${experimentId}' has no search '${searchId}'${at === undefined ? '' : ` as of position ${at}`}`, 'body.searchId');
  }
}

/** A request that needs the bearer token came without it, or with another one. */
export class UnauthorizedError extends DomainError {
  constructor(message: string) {
    super('unauthorized', 'UnauthorizedError', message);
  }
}

/** Well-formed values the domain cannot work with (422), e.g. what-if settings that underflow. */
export class UnprocessableValueError extends DomainError {
  declare readonly field: string;

  constructor(field: string, reason: string) {
    super('unprocessable', 'UnprocessableValueError', reason, field);
  }
}
