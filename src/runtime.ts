/**
 * The composition root: which adapter serves each port. `createRuntime` wires the SQL adapters
 * over one database (Postgres or PGlite), `createMemoryRuntime` the in-memory ones (tests,
 * benchmarks, a throwaway service). Everything above (commands, projections, the HTTP edge)
 * sees only the ports.
 */
import { hostname } from 'node:os';
import { MemoryAuditLedger } from './adapters/memory/audit-ledger.js';
import { MemoryExperimentIndex } from './adapters/memory/experiment-index.js';
import { MemoryProjectionSnapshots } from './adapters/memory/projection-snapshots.js';
import { SqlAuditLedger } from './adapters/sql/audit-ledger.js';
import { SqlExperimentIndex } from './adapters/sql/experiment-index.js';
import { SqlProjectionSnapshots } from './adapters/sql/projection-snapshots.js';
import { SqlTimelineReadModel } from './adapters/sql/timeline-read-model.js';
import type { Database } from './database/database.js';
import type { EventMetadata } from './events/catalog.js';
import { EventStore } from './events/event-store.js';
import { MemoryEventStore } from './events/memory-event-store.js';
import type { EventFeed, StreamStore } from './events/stream-store.js';
import { ExperimentProjections, type ProjectionOptions } from './experiments/experiment-projections.js';
import { type Clock, ExperimentService, systemClock } from './experiments/experiment-service.js';
import type { AuditLedger, ExperimentIndex, ProjectionSnapshots } from './experiments/ports.js';
import type { TimelineReadModel } from './experiments/timeline-read-model.js';
import { codeVersion } from './version.js';

/**
 * The process-wide objects over one store: the ports' adapters, the projections cache and the
 * command service. The HTTP app and in-process workers share one runtime, so they share one
 * projection cache (and, on PGlite, one write queue).
 */
export interface Runtime<S extends StreamStore & EventFeed = StreamStore & EventFeed> {
  /** the SQL database behind the adapters; null for the in-memory runtime */
  readonly database: Database | null;
  readonly store: S;
  readonly snapshots: ProjectionSnapshots;
  readonly index: ExperimentIndex;
  readonly audit: AuditLedger;
  /** the dashboard's run timeline; SQL only for now (null in memory) */
  readonly timeline: TimelineReadModel | null;
  readonly projections: ExperimentProjections;
  readonly service: ExperimentService<S>;
}

export interface RuntimeOptions {
  readonly projections?: Omit<ProjectionOptions, 'snapshots'>;
  readonly clock?: Clock;
}

export function createRuntime(database: Database, options: RuntimeOptions = {}): Runtime<EventStore> & { readonly database: Database } {
  const store = new EventStore(database, { host: hostname(), codeVersion });
  return wire(database, store, new SqlProjectionSnapshots(database), new SqlExperimentIndex(database), new SqlAuditLedger(database), new SqlTimelineReadModel(database), options);
}

export function createMemoryRuntime(options: RuntimeOptions & { readonly metadata?: Partial<EventMetadata> } = {}): Runtime<MemoryEventStore> {
  const store = new MemoryEventStore(options.metadata);
  return wire(null, store, new MemoryProjectionSnapshots(), new MemoryExperimentIndex(store), new MemoryAuditLedger(store), null, options);
}

function wire<S extends StreamStore & EventFeed, D extends Database | null>(
  database: D,
  store: S,
  snapshots: ProjectionSnapshots,
  index: ExperimentIndex,
  audit: AuditLedger,
  timeline: TimelineReadModel | null,
  options: RuntimeOptions,
): Runtime<S> & { readonly database: D } {
  const projections = new ExperimentProjections(store, { ...options.projections, snapshots });
  const service = new ExperimentService(store, projections, options.clock ?? systemClock, index);
  return { database, store, snapshots, index, audit, timeline, projections, service };
}

export function isRuntime(value: Database | Runtime): value is Runtime {
  return 'service' in value && 'store' in value;
}
