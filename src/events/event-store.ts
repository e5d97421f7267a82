import { Observable } from 'rxjs';
import { type Database, type Row, type SqlExecutor, sqlState, toSafeInteger, toXid } from '../database/database.js';
import { eventCatalog, type EventMetadata, type EventType, validateEvent } from './catalog.js';
import { type ExpectedVersion, IdempotencyConflictError, VersionConflictError } from './errors.js';
import { type Checkpoint, checkpointOf, START, type StoredEvent } from './stored-event.js';
import { WakeSignal } from './wake-signal.js';

export const EVENTS_CHANNEL = 'mctnas_events';

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
}

export interface EventFilter {
  readonly streamId?: string;
  readonly types?: readonly EventType[];
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

const SELECT_COLUMNS = `position, stream_id, stream_version, type, schema_version, data, metadata, idempotency_key, transaction_id::text AS transaction_id, created_at`;

/**
 * Append-only event store over Postgres or PGlite.
 *  - append: one transaction per call, optimistic concurrency on the stream version,
 *    idempotency keys enforced by a unique index;
 *  - readAll: gap-safe global order by (transaction_id, position), only rows whose transaction
 *    is older than every transaction still running (pg_snapshot_xmin);
 *  - subscribe: catch-up then live, NOTIFY as the wake-up and the gap-safe query as the truth.
 */
export class EventStore {
  constructor(
    readonly database: Database,
    private readonly defaultMetadata: Partial<EventMetadata> = {},
  ) {}

  async append(streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult> {
    // Validate before opening a transaction: a bad event writes nothing and costs no round trip.
    const prepared = this.prepare(streamId, events);
    return this.database.transaction((tx) => this.appendPrepared(tx, streamId, expected, prepared));
  }

  /** Appends inside a caller's transaction (e.g. a projection's writes, or a step's events). */
  async appendIn(tx: SqlExecutor, streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult> {
    return this.appendPrepared(tx, streamId, expected, this.prepare(streamId, events));
  }

  async streamVersion(streamId: string): Promise<number> {
    const rows = await this.database.query(`SELECT version FROM streams WHERE stream_id = $1`, [streamId]);
    return rows.length === 0 ? 0 : toSafeInteger(rows[0]!.version, 'streams.version');
  }

  async readStream(streamId: string, fromVersion = 1, toVersion?: number, executor: SqlExecutor = this.database): Promise<StoredEvent[]> {
    const rows = await executor.query(
      `SELECT ${SELECT_COLUMNS} FROM events
        WHERE stream_id = $1 AND stream_version >= $2 AND ($3::int IS NULL OR stream_version <= $3)
        ORDER BY stream_version`,
      [streamId, fromVersion, toVersion ?? null],
    );
    return rows.map(toStoredEvent);
  }

  /**
   * Up to `limit` events after `after`, in (transaction_id, position) order, never past the
   * oldest transaction still in flight: an event that commits late is delivered late, never
   * skipped.
   */
  async readAll(after: Checkpoint = START, limit = 1000, filter: EventFilter = {}, executor: SqlExecutor = this.database): Promise<StoredEvent[]> {
    const rows = await executor.query(
      `SELECT ${SELECT_COLUMNS} FROM events
        WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          AND ($3::text IS NULL OR stream_id = $3)
          AND ($4::jsonb IS NULL OR $4::jsonb ? type)
        ORDER BY transaction_id, position
        LIMIT $5`,
      [after.transactionId, after.position, filter.streamId ?? null, filter.types ? JSON.stringify(filter.types) : null, limit],
    );
    return rows.map(toStoredEvent);
  }

  subscribe<T = StoredEvent>(from: Checkpoint = START, options: SubscribeOptions<T> = {}): Observable<T> {
    const batchSize = options.batchSize ?? 500;
    const pollIntervalMs = options.pollIntervalMs ?? 1000;
    return new Observable<T>((subscriber) => {
      const wake = new WakeSignal();
      let closed = false;
      let unlisten: (() => Promise<void>) | null = null;
      const run = async () => {
        unlisten = await this.database.listen(EVENTS_CHANNEL, () => wake.fire());
        if (closed) return;
        let checkpoint = from;
        while (!closed) {
          wake.reset();
          const page = await this.readAll(checkpoint, batchSize, options.filter);
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

  /** The checkpoint of the newest event a gap-safe reader could see now (START if none). */
  async headCheckpoint(executor: SqlExecutor = this.database): Promise<Checkpoint> {
    const rows = await executor.query(
      `SELECT transaction_id::text AS transaction_id, position FROM events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY transaction_id DESC, position DESC LIMIT 1`,
    );
    return rows.length === 0 ? START : checkpointOf(toCheckpointRow(rows[0]!));
  }

  async loadProjectionCheckpoint(name: string, executor: SqlExecutor = this.database): Promise<Checkpoint> {
    const rows = await executor.query(`SELECT transaction_id::text AS transaction_id, position FROM projection_checkpoints WHERE name = $1`, [name]);
    return rows.length === 0 ? START : checkpointOf(toCheckpointRow(rows[0]!));
  }

  /** Call inside the transaction that holds the projection's own writes, so both commit together. */
  async saveProjectionCheckpoint(tx: SqlExecutor, name: string, checkpoint: Checkpoint): Promise<void> {
    await tx.query(
      `INSERT INTO projection_checkpoints (name, transaction_id, position) VALUES ($1, $2::xid8, $3)
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position, updated_at = now()`,
      [name, checkpoint.transactionId, checkpoint.position],
    );
  }

  private prepare(streamId: string, events: readonly NewEvent[]): PreparedEvent[] {
    if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > 200) {
      throw new Error(`stream id must be a non-empty string of at most 200 characters`);
    }
    if (events.length === 0) throw new Error('append needs at least one event');
    const keys = new Set<string>();
    return events.map((event) => {
      const valid = validateEvent(event.type, event.data);
      const key = event.idempotencyKey ?? null;
      if (key !== null) {
        if (keys.has(key)) throw new IdempotencyConflictError(streamId, key, 'the key appears twice in one append');
        keys.add(key);
      }
      return {
        type: valid.type,
        schemaVersion: eventCatalog[valid.type].version,
        data: JSON.stringify(valid.data),
        metadata: JSON.stringify({ experimentId: streamId, ...this.defaultMetadata, ...event.metadata }),
        idempotencyKey: key,
      };
    });
  }

  private async appendPrepared(tx: SqlExecutor, streamId: string, expected: ExpectedVersion, events: PreparedEvent[]): Promise<AppendResult> {
    // Creates the stream row if needed and locks it: concurrent appenders to one stream queue
    // here, so stream versions commit in order and the loser sees the winner's version.
    const [lock] = await tx.query(
      `INSERT INTO streams (stream_id, version) VALUES ($1, 0)
       ON CONFLICT (stream_id) DO UPDATE SET stream_id = EXCLUDED.stream_id
       RETURNING version`,
      [streamId],
    );
    const actual = toSafeInteger(lock!.version, 'streams.version');

    const keyed = events.filter((e) => e.idempotencyKey !== null);
    if (keyed.length > 0) {
      const duplicate = await this.findDuplicates(tx, streamId, events, keyed);
      if (duplicate) return { ...duplicate, version: actual };
    }

    if (expected === 'no-stream' ? actual !== 0 : expected !== 'any' && expected !== actual) {
      throw new VersionConflictError(streamId, expected, actual);
    }

    const rows = JSON.stringify(
      events.map((e, i) => ({ v: actual + i + 1, t: e.type, sv: e.schemaVersion, d: JSON.parse(e.data), m: JSON.parse(e.metadata), k: e.idempotencyKey })),
    );
    try {
      const inserted = await tx.query(
        `WITH ins AS (
           INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, idempotency_key)
           SELECT $1, r.v, r.t, r.sv, r.d, r.m, r.k FROM jsonb_to_recordset($2::jsonb) AS r(v int, t text, sv smallint, d jsonb, m jsonb, k text)
           ORDER BY r.v
           RETURNING position, stream_version),
         bump AS (
           UPDATE streams SET version = $3, updated_at = now() WHERE stream_id = $1
           RETURNING pg_notify('${EVENTS_CHANNEL}', $1))
         SELECT position FROM ins ORDER BY stream_version`,
        [streamId, rows, actual + events.length],
      );
      return { streamId, positions: inserted.map((r) => toSafeInteger(r.position, 'events.position')), version: actual + events.length, duplicate: false };
    } catch (error) {
      // Unreachable while the stream row lock is held; kept as the database-level guarantee.
      if (sqlState(error) === '23505') throw new VersionConflictError(streamId, expected, await this.streamVersion(streamId));
      throw error;
    }
  }

  /**
   * All keys present with identical events → the original positions (a retry). None present →
   * null (a new append). Anything in between, or a key reused for a different event → error:
   * silently accepting it would hide a bug or lose a reward.
   */
  private async findDuplicates(tx: SqlExecutor, streamId: string, events: PreparedEvent[], keyed: PreparedEvent[]) {
    const existing = await tx.query(
      `SELECT e.idempotency_key, e.position, (e.type = c.t AND e.data = c.d) AS same
         FROM jsonb_to_recordset($2::jsonb) AS c(k text, t text, d jsonb)
         JOIN events e ON e.stream_id = $1 AND e.idempotency_key = c.k`,
      [streamId, JSON.stringify(keyed.map((e) => ({ k: e.idempotencyKey, t: e.type, d: JSON.parse(e.data) })))],
    );
    if (existing.length === 0) return null;
    const byKey = new Map(existing.map((r) => [String(r.idempotency_key), r]));
    for (const event of events) {
      const row = event.idempotencyKey === null ? undefined : byKey.get(event.idempotencyKey);
      if (!row) {
        const some = String(existing[0]!.idempotency_key);
        throw new IdempotencyConflictError(streamId, some, 'a retried append must repeat exactly the original events: this batch mixes stored and new events');
      }
      if (row.same !== true) {
        throw new IdempotencyConflictError(streamId, event.idempotencyKey!, `key already stored with a different ${event.type} payload`);
      }
    }
    const positions = events.map((e) => toSafeInteger(byKey.get(e.idempotencyKey!)!.position, 'events.position'));
    return { streamId, positions, duplicate: true };
  }
}

interface PreparedEvent {
  readonly type: EventType;
  readonly schemaVersion: number;
  readonly data: string;
  readonly metadata: string;
  readonly idempotencyKey: string | null;
}

function toCheckpointRow(row: Row): { transactionId: string; position: number } {
  return { transactionId: toXid(row.transaction_id, 'events.transaction_id'), position: toSafeInteger(row.position, 'events.position') };
}

function toStoredEvent(row: Row): StoredEvent {
  return {
    position: toSafeInteger(row.position, 'events.position'),
    streamId: String(row.stream_id),
    streamVersion: toSafeInteger(row.stream_version, 'events.stream_version'),
    type: row.type as EventType,
    schemaVersion: toSafeInteger(row.schema_version, 'events.schema_version'),
    data: parseJson(row.data),
    metadata: parseJson(row.metadata) as EventMetadata,
    idempotencyKey: row.idempotency_key === null || row.idempotency_key === undefined ? null : String(row.idempotency_key),
    transactionId: toXid(row.transaction_id, 'events.transaction_id'),
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(String(row.created_at)),
  } as StoredEvent;
}

function parseJson(value: unknown): never {
  return (typeof value === 'string' ? JSON.parse(value) : value) as never;
}
