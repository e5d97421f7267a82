/**
 * An in-memory event store with the append and read semantics of `EventStore` (the SQL
 * function `mctnas_append`): the same validation, the same metadata, optimistic concurrency on
 * the stream version, idempotency keys (a retry of identical events writes nothing; a key
 * reused for a different payload or a batch mixing stored and new events is refused), global
 * positions and per-stream versions from 1; and the event feed (one transaction per append, so
 * the global order is the gap-safe order). It exists so the search-quality benchmark can run
 * thousands of simulated training steps per second, and for the in-memory runtime; test/tabular/memory-store.test.ts shows
 * that the same seed gives the identical event sequence on Postgres.
 *
 * Events are stored as JSON round trips, deep-frozen: readers get what the database would
 * return (no `undefined`, no shared mutable objects). One process, one event loop: an append
 * is atomic because it never awaits.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Observable } from 'rxjs';
import { eventCatalog, type EventMetadata } from './catalog.js';
import { type ExpectedVersion, IdempotencyConflictError, VersionConflictError } from './errors.js';
import { prepareEvents } from './event-store.js';
import { type Checkpoint, checkpointOf, START, type StoredEvent } from './stored-event.js';
import { type AppendResult, EventFeed, type EventFilter, type NewEvent, StreamStore, type StreamRange, type SubscribeOptions, subscribeFeed } from './stream-store.js';

interface Stream {
  readonly events: StoredEvent[];
  readonly byKey: Map<string, StoredEvent>;
}

export class MemoryEventStore extends StreamStore implements EventFeed {
  private readonly streams = new Map<string, Stream>();
  /** every event in global order (one transaction per append, so also the gap-safe order) */
  private readonly all: StoredEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private position = 0;
  private transaction = 0;

  constructor(private readonly defaultMetadata: Partial<EventMetadata> = {}) {
    super();
  }

  async append(streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult> {
    const prepared = this.prepare(streamId, events);
    const mode = expected === 'any' || expected === 'no-stream' ? expected : 'exact';
    if (mode === 'exact' && !(Number.isSafeInteger(expected) && (expected as number) >= 0)) {
      throw new Error(`expected version must be a non-negative integer, 'any' or 'no-stream'; got ${String(expected)}`);
    }
    const stream = this.streams.get(streamId);
    const actual = stream?.events.length ?? 0;
    const duplicate = stream && this.storedDuplicate(streamId, stream, prepared);
    if (duplicate) return { streamId, positions: duplicate, version: actual, duplicate: true, events: [] };
    if ((mode === 'no-stream' && actual !== 0) || (mode === 'exact' && actual !== expected)) {
      throw new VersionConflictError(streamId, expected, actual);
    }
    const target = stream ?? { events: [], byKey: new Map<string, StoredEvent>() };
    this.streams.set(streamId, target);
    const transactionId = String(++this.transaction);
    const createdAt = new Date();
    const stored = prepared.map((event) => {
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
      this.all.push(stored);
      if (stored.idempotencyKey !== null) target.byKey.set(stored.idempotencyKey, stored);
      return stored;
    });
    for (const listener of [...this.listeners]) listener();
    return { streamId, positions: stored.map((e) => e.position), version: target.events.length, duplicate: false, events: stored };
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.streams.get(streamId)?.events.length ?? 0;
  }

  /** One stream's events (read-only; the in-memory read models scan them). */
  events(streamId: string): readonly StoredEvent[] {
    return this.streams.get(streamId)?.events ?? [];
  }

  /** Every event in global order (read-only). */
  allEvents(): readonly StoredEvent[] {
    return this.all;
  }

  async readAll(after: Checkpoint = START, limit = 1000, filter: EventFilter = {}): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (let i = this.firstAfter(after); i < this.all.length && out.length < limit; i++) {
      const e = this.all[i]!;
      if (filter.streamId !== undefined && e.streamId !== filter.streamId) continue;
      if (filter.types && !filter.types.includes(e.type)) continue;
      out.push(e);
    }
    return out;
  }

  subscribe<T = StoredEvent>(from: Checkpoint = START, options: SubscribeOptions<T> = {}): Observable<T> {
    return subscribeFeed(this, from, options);
  }

  async headCheckpoint(): Promise<Checkpoint> {
    const last = this.all.at(-1);
    return last ? checkpointOf(last) : START;
  }

  async headPosition(): Promise<number> {
    return this.position;
  }

  async hasPosition(position: number): Promise<boolean> {
    return this.position >= position;
  }

  async countAfter(checkpoint: Checkpoint): Promise<number> {
    return this.all.length - this.firstAfter(checkpoint);
  }

  async onAppend(listener: () => void): Promise<() => Promise<void>> {
    const once = () => listener();
    this.listeners.add(once);
    return async () => {
      this.listeners.delete(once);
    };
  }

  /** Index of the first event after `checkpoint` in the global order (binary search). */
  private firstAfter(checkpoint: Checkpoint): number {
    const tx = BigInt(checkpoint.transactionId);
    let lo = 0;
    let hi = this.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.all[mid]!;
      const etx = BigInt(e.transactionId);
      if (etx > tx || (etx === tx && e.position > checkpoint.position)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
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
