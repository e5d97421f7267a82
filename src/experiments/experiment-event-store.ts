import type { SqlExecutor } from '../database/database.js';
import type { ExpectedVersion } from '../events/errors.js';
import type { AppendResult, NewEvent, StreamRange } from '../events/event-store.js';
import type { StoredEvent } from '../events/stored-event.js';

/**
 * The event store as the experiment commands and projections use it. `EventStore` (Postgres,
 * PGlite) satisfies it, and so does the in-memory store of the tabular benchmark
 * (src/tabular/memory-event-store.ts), which has no SQL `database`: projections then keep no
 * snapshots (they are only a cache).
 */
export interface ExperimentEventStore {
  append(streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult>;
  readStream(streamId: string, range?: StreamRange): Promise<StoredEvent[]>;
  /** The stream's event stored under an idempotency key, or null. */
  readByKey(streamId: string, idempotencyKey: string): Promise<StoredEvent | null>;
  readonly database: SqlExecutor | null;
}
