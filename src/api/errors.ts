/** Errors of the HTTP layer itself; the exception filter maps them with the domain's errors. */

/** A request part failed validation; `field` is the dotted path (`body.loss`, `query.depth`). */
export class RequestValidationError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'RequestValidationError';
  }
}

/** `minPosition` (or `at`) names a position the database has not reached within the wait. */
export class PositionNotReachedError extends Error {
  constructor(
    readonly requested: number,
    readonly waitedMs: number,
  ) {
    super(`position ${requested} was not reached within ${waitedMs} ms; retry later or ask for an earlier position`);
    this.name = 'PositionNotReachedError';
  }
}

/** Starting a search needs a trainer to evaluate candidates, and none is attached to this service. */
export class NoSearchLauncherError extends Error {
  constructor() {
    super('no trainer attached to run a search: start the service with a trainer (or run the search from the CLI)');
    this.name = 'NoSearchLauncherError';
  }
}

/** A request that needs the bearer token came without it, or with another one. */
export class UnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** Well-formed values the domain cannot work with (422), e.g. what-if settings that underflow. */
export class UnprocessableValueError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'UnprocessableValueError';
  }
}
