/** Errors of the search-space context (codes are part of the HTTP API). */
import { DomainError } from '../kernel/domain-error.js';

/** An invalid search-space definition; `field` is the path of the first offending value. */
export function searchSpaceError(field: string, detail: string): DomainError {
  return new DomainError('invalid', 'SearchSpaceError', detail, field);
}

/** An architecture, key or label string the space does not have; `field` names the position. */
export function architectureError(field: string, detail: string): DomainError {
  return new DomainError('unprocessable', 'ArchitectureError', detail, field);
}
