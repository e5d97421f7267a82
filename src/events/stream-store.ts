/**
 * The event-stream ports. `StreamStore` is what commands and projections need (append with
 * optimistic concurrency, read one stream); `EventFeed` is what live readers and read-your-writes
 * need (the global, gap-safe order and its head). Abstract classes, so they also serve as Nest
 * injection tokens. Adapters: `EventStore` (Postgres and PGlite, src/events/event-store.ts) and
 * `MemoryEventStore` (src/events/memory-event-store.ts); test/adapters/ports.contract.test.ts
 * runs one spec on all three.
 */
import { Observable } from 'rxjs';
import type { ExpectedVersion } from './errors.js';
import type { EventMetadata, EventType } from './catalog.js';
import { type Checkpoint, checkpointOf, START, type StoredEvent } from './stored-event.js';
import { WakeSignal } from './wake-signal.js';
import { hasCode } from '../kernel/domain-error.js';

export interface NewEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: Partial<EventMetadata>;
  /** Unique per stream; a retried append with the same keys writes nothing. */
  readonly idempotencyKey?: string;
}

export interface AppendResult {
  readonly streamId: string;
  readonly positions: readonly number[];
  /** Stream version after the append (pass it as the next expected version). */
  readonly version: number;
  /** True when every event already existed (an idempotent retry): nothing was written. */
  readonly duplicate: boolean;
  /**
   * The events as written, exactly as a reader of the stream would get them back (positions,
   * versions, transaction, payloads as stored); empty for a duplicate. A writer advances its
   * projection from these instead of reading its own events back.
   */
  readonly events: readonly StoredEvent[];
}

export interface EventFilter {
  readonly streamId?: string;
  readonly types?: readonly EventType[];
}

export interface StreamRange {
  readonly fromVersion?: number;
  readonly toVersion?: number;
  /** only events after this global position */
  readonly afterPosition?: number;
  /** only events at or before this global position (as-of reads) */
  readonly toPosition?: number;
  readonly types?: readonly EventType[];
  readonly limit?: number;
}

export interface SubscribeOptions<T> {
  readonly filter?: EventFilter;
  /** Rows fetched per query; also the most events held in memory at once. */
  readonly batchSize?: number;
  /** Polling fallback when no NOTIFY arrives (e.g. an unrelated transaction held back xmin). */
  readonly pollIntervalMs?: number;
  /**
   * Processes each event before the next is read; the observable emits its result. Awaiting
   * here is the backpressure: a slow consumer slows reading instead of growing a buffer.
   */
  readonly handle?: (event: StoredEvent) => T | Promise<T>;
}

export abstract class StreamStore {
  abstract append(streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult>;
  /** A stream's events in version order, optionally limited to a version/position range and types. */
  abstract readStream(streamId: string, range?: StreamRange): Promise<StoredEvent[]>;
  /** The stream's event stored under an idempotency key, or null. */
  abstract readByKey(streamId: string, idempotencyKey: string): Promise<StoredEvent | null>;
  /** The stream's version (its event count; 0 for a stream never written). */
  abstract streamVersion(streamId: string): Promise<number>;
}

export abstract class EventFeed {
  /** Up to `limit` events after `after`, in gap-safe (transaction, position) order. */
  abstract readAll(after?: Checkpoint, limit?: number, filter?: EventFilter): Promise<StoredEvent[]>;
  /** Every event after `from` (catch-up, then live) until unsubscribed. */
  abstract subscribe<T = StoredEvent>(from?: Checkpoint, options?: SubscribeOptions<T>): Observable<T>;
  /** The checkpoint of the newest event a gap-safe reader could see now (START if none). */
  abstract headCheckpoint(): Promise<Checkpoint>;
  /** The newest committed global position (0 when empty). */
  abstract headPosition(): Promise<number>;
  /** Whether an event at `position` or later is committed. */
  abstract hasPosition(position: number): Promise<boolean>;
  /** Committed events after `checkpoint` in the gap-safe order (what a reader there has not seen). */
  abstract countAfter(checkpoint: Checkpoint): Promise<number>;
  /** Calls `listener` after appends (possibly coalesced, possibly spurious); resolves to an unsubscribe function. */
  abstract onAppend(listener: () => void): Promise<() => Promise<void>>;
}

/**
 * `EventFeed.subscribe` for every adapter: catch-up then live, the append notification as the
 * wake-up and the gap-safe read as the truth (a lost wake-up costs at most `pollIntervalMs`).
 * A database outage pauses it (DatabaseUnavailable reads are retried with backoff from the same
 * checkpoint); any other error ends it.
 */
export function subscribeFeed<T = StoredEvent>(feed: EventFeed, from: Checkpoint = START, options: SubscribeOptions<T> = {}): Observable<T> {
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  return new Observable<T>((subscriber) => {
    const wake = new WakeSignal();
    let closed = false;
    let unlisten: (() => Promise<void>) | null = null;
    // While the database is unavailable, the subscription waits (backoff) and reads again from
    // where it was: it neither fails nor skips. The `handle` callback is never retried.
    const untilAvailable = async <R>(read: () => Promise<R>): Promise<R> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await read();
        } catch (error) {
          if (closed || !hasCode(error, 'DatabaseUnavailable')) throw error;
          await wake.wait(Math.min(5_000, 250 * 2 ** Math.min(attempt, 10)));
          wake.reset();
        }
      }
    };
    const run = async () => {
      unlisten = await untilAvailable(() => feed.onAppend(() => wake.fire()));
      if (closed) return;
      let checkpoint = from;
      while (!closed) {
        wake.reset();
        const page = await untilAvailable(() => feed.readAll(checkpoint, batchSize, options.filter));
        if (closed) return;
        for (const event of page) {
          if (closed) return;
          const result = options.handle ? await options.handle(event) : (event as unknown as T);
          if (closed) return;
          subscriber.next(result);
          checkpoint = checkpointOf(event);
        }
        if (page.length < batchSize) await wake.wait(pollIntervalMs);
      }
    };
    run().then(
      () => undefined,
      (error: unknown) => {
        if (!closed) subscriber.error(error);
      },
    ).finally(() => {
      if (closed) void unlisten?.();
    });
    return () => {
      closed = true;
      wake.fire();
      const release = unlisten;
      unlisten = null;
      void release?.();
    };
  });
}
