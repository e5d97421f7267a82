import { hostname } from 'node:os';
import type { Database } from './database/database.js';
import { EventStore } from './events/event-store.js';
import { ExperimentProjections } from './experiments/experiment-projections.js';
import { ExperimentService } from './experiments/experiment-service.js';
import { codeVersion } from './version.js';

/**
 * The process-wide objects over one database: the event store, the projections cache and the
 * command service. The HTTP app and in-process workers share one runtime, so they share one
 * projection cache (and, on PGlite, one write queue).
 */
export interface Runtime {
  readonly database: Database;
  readonly store: EventStore;
  readonly projections: ExperimentProjections;
  readonly service: ExperimentService;
}

export function createRuntime(database: Database): Runtime {
  const store = new EventStore(database, { host: hostname(), codeVersion });
  const projections = new ExperimentProjections(store);
  return { database, store, projections, service: new ExperimentService(store, projections) };
}

export function isRuntime(value: Database | Runtime): value is Runtime {
  return 'service' in value && 'store' in value;
}
