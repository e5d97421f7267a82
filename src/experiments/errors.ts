import { DomainError } from '../kernel/domain-error.js';

/** Another worker holds the experiment's lease, or the given lease is not the one in force. */
export class LeaseConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', 'LeaseConflictError', message);
  }
}

/** A lease id the experiment never issued (a released or expired one is not this: releasing it again is a no-op). */
export class LeaseNotFoundError extends DomainError {
  constructor(experimentId: string, leaseId: string) {
    super('not-found', 'LeaseNotFoundError', `experiment '${experimentId}' never issued lease '${leaseId}'`, 'leaseId');
  }
}

/** The command does not fit the experiment's lifecycle (paused, completed, failed...). */
export class ExperimentStateError extends DomainError {
  constructor(message: string) {
    super('conflict', 'ExperimentStateError', message);
  }
}

/** A step that is not the one the experiment expects (from the future, or never sampled). */
export class StepOrderError extends DomainError {
  constructor(message: string) {
    super('unprocessable', 'StepOrderError', message);
  }
}
