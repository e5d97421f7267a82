/**
 * An in-memory event store with the append and read semantics of `EventStore` (the SQL
 * function `mctnas_append`): the same validation, the same metadata, optimistic concurrency on
 * the stream version, idempotency keys (a retry of identical events writes nothing; a key
 * reused for a different payload or a batch mixing stored and new events is refused), global
 * positions and per-stream versions from 1. It exists so the search-quality benchmark can run
 * thousands of simulated training steps per second; test/tabular/memory-store.test.ts shows
 * that the same seed gives the identical event sequence on Postgres.
 *
 * Events are stored as JSON round trips, deep-frozen: readers get what the database would
 * return (no `undefined`, no shared mutable objects). One process, one event loop: an append
 * is atomic because it never awaits.
 */
import { isDeepStrictEqual } from 'node:util';
import { eventCatalog, type EventMetadata } from '../events/catalog.js';
import { type ExpectedVersion, IdempotencyConflictError, VersionConflictError } from '../events/errors.js';
import { type AppendResult, type NewEvent, prepareEvents, type StreamRange } from '../events/event-store.js';
import type { StoredEvent } from '../events/stored-event.js';
import type { ExperimentEventStore } from '../experiments/experiment-event-store.js';

interface Stream {
  readonly events: StoredEvent[];
  readonly byKey: Map<string, StoredEvent>;
}

export class MemoryEventStore implements ExperimentEventStore {
  /** No SQL behind this store (see ExperimentEventStore). */
  readonly database = null;
  private readonly streams = new Map<string, Stream>();
  private position = 0;
  private transaction = 0;

  constructor(private readonly defaultMetadata: Partial<EventMetadata> = {}) {}

  async append(streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult> {
    const prepared = this.prepare(streamId, events);
    const mode = expected === 'any' || expected === 'no-stream' ? expected : 'exact';
    if (mode === 'exact' && !(Number.isSafeInteger(expected) && (expected as number) >= 0)) {
      throw new Error(`expected version must be a non-negative integer, 'any' or 'no-stream'; got ${String(expected)}`);
    }
    const stream = this.streams.get(streamId);
    const actual = stream?.events.length ?? 0;
    const duplicate = stream && this.storedDuplicate(streamId, stream, prepared);
    if (duplicate) return { streamId, positions: duplicate, version: actual, duplicate: true };
    if ((mode === 'no-stream' && actual !== 0) || (mode === 'exact' && actual !== expected)) {
      throw new VersionConflictError(streamId, expected, actual);
    }
    const target = stream ?? { events: [], byKey: new Map<string, StoredEvent>() };
    this.streams.set(streamId, target);
    const transactionId = String(++this.transaction);
    const createdAt = new Date();
    const positions = prepared.map((event) => {
      const stored = deepFreeze({
        position: ++this.position,
        streamId,
        streamVersion: target.events.length + 1,
        type: event.type,
        schemaVersion: eventCatalog[event.type].version,
        data: event.data,
        metadata: event.metadata,
        idempotencyKey: event.idempotencyKey,
        transactionId,
        createdAt,
      } as StoredEvent);
      target.events.push(stored);
      if (stored.idempotencyKey !== null) target.byKey.set(stored.idempotencyKey, stored);
      return stored.position;
    });
    return { streamId, positions, version: target.events.length, duplicate: false };
  }

  async readByKey(streamId: string, idempotencyKey: string): Promise<StoredEvent | null> {
    return this.streams.get(streamId)?.byKey.get(idempotencyKey) ?? null;
  }

  async readStream(streamId: string, range: StreamRange = {}): Promise<StoredEvent[]> {
    const events = this.streams.get(streamId)?.events ?? [];
    const out: StoredEvent[] = [];
    const limit = range.limit ?? Infinity;
    for (let i = Math.max(0, (range.fromVersion ?? 1) - 1); i < events.length && out.length < limit; i++) {
      const e = events[i]!;
      if (range.toVersion !== undefined && e.streamVersion > range.toVersion) break;
      if (range.toPosition !== undefined && e.position > range.toPosition) break;
      if (e.position <= (range.afterPosition ?? 0)) continue;
      if (range.types && !range.types.includes(e.type)) continue;
      out.push(e);
    }
    return out;
  }

  /** The SQL store's validation and serialization, parsed back into values as stored. */
  private prepare(streamId: string, events: readonly NewEvent[]): PreparedEvent[] {
    return prepareEvents(streamId, events, this.defaultMetadata).map((e) => ({
      type: e.type,
      data: JSON.parse(e.data) as unknown,
      metadata: JSON.parse(e.metadata) as EventMetadata,
      idempotencyKey: e.idempotencyKey,
    }));
  }

  /** Positions of an identical earlier append of these events, or null when they are new. */
  private storedDuplicate(streamId: string, stream: Stream, events: readonly PreparedEvent[]): number[] | null {
    const found = events.map((e) => (e.idempotencyKey === null ? undefined : stream.byKey.get(e.idempotencyKey)));
    if (found.every((f) => f === undefined)) return null;
    found.forEach((stored, i) => {
      if (stored && (stored.type !== events[i]!.type || !isDeepStrictEqual(stored.data, events[i]!.data))) {
        throw new IdempotencyConflictError(streamId, stored.idempotencyKey!, 'key already stored with a different payload');
      }
    });
    if (found.some((f) => f === undefined)) {
      const key = found.find((f) => f !== undefined)!.idempotencyKey!;
      throw new IdempotencyConflictError(streamId, key, 'a retried append must repeat exactly the original events: this batch mixes stored and new events');
    }
    return found.map((f) => f!.position);
  }
}

interface PreparedEvent {
  readonly type: StoredEvent['type'];
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly idempotencyKey: string | null;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Date)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
