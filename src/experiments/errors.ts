/** Another worker holds the experiment's lease, or the given lease is not the one in force. */
export class LeaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

/** The command does not fit the experiment's lifecycle (paused, completed, failed...). */
export class ExperimentStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExperimentStateError';
  }
}

/** A step that is not the one the experiment expects (from the future, or never sampled). */
export class StepOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepOrderError';
  }
}
