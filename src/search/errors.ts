/** Errors of the search strategies and their session. */

/** A replayed search diverged from its recorded events. */
export class SearchReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchReplayError';
  }
}

/** No candidate could be evaluated (the FLOPs window or the space ran out). */
export class SearchExhaustedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchExhaustedError';
  }
}

/** The evaluator answered with a value a search cannot use. */
export class InvalidEvaluationError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEvaluationError';
  }
}
