/** Errors of the search strategies and their session (codes are part of the HTTP API). */
import { DomainError } from '../kernel/domain-error.js';

/** A replayed search diverged from its recorded events: the strategy is not deterministic. */
export function searchReplayError(message: string): DomainError {
  return new DomainError('internal', 'SearchReplayError', message);
}

/** No candidate could be evaluated (the FLOPs window or the space ran out). */
export function searchExhaustedError(message: string): DomainError {
  return new DomainError('unprocessable', 'SearchExhaustedError', message);
}

/** The evaluator answered with a value a search cannot use: a broken trainer. */
export function invalidEvaluationError(message: string): DomainError {
  return new DomainError('internal', 'InvalidEvaluationError', message);
}
