import type { Observable } from 'rxjs';
import { type Database, type Row, type SqlExecutor, sqlState, toSafeInteger, toXid } from '../database/database.js';
import { eventCatalog, type EventMetadata, type EventType, upcastEvent, validateEvent } from './catalog.js';
import { type ExpectedVersion, IdempotencyConflictError, VersionConflictError } from './errors.js';
import { type Checkpoint, checkpointOf, START, type StoredEvent } from './stored-event.js';
import { type AppendResult, EventFeed, subscribeFeed, type EventFilter, type NewEvent, StreamStore, type StreamRange, type SubscribeOptions } from './stream-store.js';

export const EVENTS_CHANNEL = 'mctnas_events';

export type { AppendResult, EventFilter, NewEvent, StreamRange, SubscribeOptions } from './stream-store.js';

/**
 * The selected `transaction_id` is its text form under the column's own name, so an ORDER BY
 * must name the table's column (`events.transaction_id`): a bare `transaction_id` sorts the
 * output column, i.e. as text ('1000' before '999'), which both misorders the gap-safe read
 * once xids gain a digit and defeats the (transaction_id, position) index (every page sorted
 * every later row).
 */
export const SELECT_COLUMNS = `position, stream_id, stream_version, type, schema_version, data, metadata, idempotency_key, transaction_id::text AS transaction_id, created_at`;

/** The append, one statement: see migrations/append-function.ts. */
const APPEND_SQL = `SELECT mctnas_append($1, $2, $3, $4::jsonb) AS result, pg_current_xact_id()::text AS transaction_id, now() AS created_at`;

/**
 * Append-only event store over Postgres or PGlite.
 *  - append: one transaction per call, optimistic concurrency on the stream version,
 *    idempotency keys enforced by a unique index;
 *  - readAll: gap-safe global order by (transaction_id, position), only rows whose transaction
 *    is older than every transaction still running (pg_snapshot_xmin);
 *  - subscribe: catch-up then live, NOTIFY as the wake-up and the gap-safe query as the truth.
 */
export class EventStore extends StreamStore implements EventFeed {
  /** events appended by this process since it last refreshed the planner statistics */
  private appendedSinceAnalyze = 0;
  private analyzing: Promise<unknown> | null = null;

  constructor(
    private readonly database: Database,
    private readonly defaultMetadata: Partial<EventMetadata> = {},
  ) {
    super();
  }

  async append(streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult> {
    // Validate before opening a transaction: a bad event writes nothing and costs no round trip.
    const prepared = prepareEvents(streamId, events, this.defaultMetadata);
    // One statement, so one round trip and a transaction of its own (no BEGIN / COMMIT trips).
    const result = await this.appendPrepared(this.database, streamId, expected, prepared);
    if (!result.duplicate) this.noteGrowth(events.length);
    return result;
  }

  /**
   * Refreshes the planner's statistics on `events` after every 50,000 appends. PGlite has no
   * autovacuum and Postgres may run without it (this project's CI cluster does); with the
   * statistics of an empty table the planner answers a paged read with a bitmap scan plus a
   * sort of every later row, and reads and appends slow down as the table grows.
   */
  private noteGrowth(count: number): void {
    this.appendedSinceAnalyze += count;
    if (this.appendedSinceAnalyze < 50_000 || this.analyzing) return;
    this.appendedSinceAnalyze = 0;
    this.analyzing = this.database
      .query('ANALYZE events')
      .catch(() => undefined)
      .finally(() => {
        this.analyzing = null;
      });
  }

  /** Appends inside a caller's transaction (e.g. a projection's writes, or a step's events). */
  async appendIn(tx: SqlExecutor, streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): Promise<AppendResult> {
    return this.appendPrepared(tx, streamId, expected, prepareEvents(streamId, events, this.defaultMetadata));
  }

  async streamVersion(streamId: string): Promise<number> {
    const rows = await this.database.query(`SELECT version FROM streams WHERE stream_id = $1`, [streamId]);
    return rows.length === 0 ? 0 : toSafeInteger(rows[0]!.version, 'streams.version');
  }

  /** A stream's events in version order, optionally limited to a version/position range and types. */
  async readStream(streamId: string, range: StreamRange = {}, executor: SqlExecutor = this.database): Promise<StoredEvent[]> {
    const rows = await executor.query(
      `SELECT ${SELECT_COLUMNS} FROM events
        WHERE stream_id = $1 AND stream_version >= $2
          AND ($3::int IS NULL OR stream_version <= $3)
          AND ($4::bigint IS NULL OR position <= $4)
          AND ($5::jsonb IS NULL OR $5::jsonb ? type)
          AND position > $7
        ORDER BY stream_version
        LIMIT $6`,
      [streamId, range.fromVersion ?? 1, range.toVersion ?? null, range.toPosition ?? null, range.types ? JSON.stringify(range.types) : null, range.limit ?? null, range.afterPosition ?? 0],
    );
    return rows.map(toStoredEvent);
  }

  /** The stream's event stored under an idempotency key (one index probe), or null. */
  async readByKey(streamId: string, idempotencyKey: string): Promise<StoredEvent | null> {
    const rows = await this.database.query(`SELECT ${SELECT_COLUMNS} FROM events WHERE stream_id = $1 AND idempotency_key = $2`, [streamId, idempotencyKey]);
    return rows.length === 0 ? null : toStoredEvent(rows[0]!);
  }

  /**
   * Up to `limit` events after `after`, in (transaction_id, position) order, never past the
   * oldest transaction still in flight: an event that commits late is delivered late, never
   * skipped.
   */
  async readAll(after: Checkpoint = START, limit = 1000, filter: EventFilter = {}, executor?: SqlExecutor): Promise<StoredEvent[]> {
    const sql = `SELECT ${SELECT_COLUMNS} FROM events
        WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          AND ($3::text IS NULL OR stream_id = $3)
          AND ($4::jsonb IS NULL OR $4::jsonb ? type)
        ORDER BY events.transaction_id, events.position
        LIMIT $5`;
    const params = [after.transactionId, after.position, filter.streamId ?? null, filter.types ? JSON.stringify(filter.types) : null, limit];
    let rows;
    if (executor) rows = await executor.query(sql, params);
    else if (this.database.kind === 'pglite') {
      // PGlite has no autovacuum, so the planner never gets statistics and prefers a bitmap scan
      // plus sort, which re-reads every later row for each page (quadratic paging). The index
      // already yields (transaction_id, position) order: insist on walking it.
      rows = await this.database.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_bitmapscan = off');
        return tx.query(sql, params);
      });
    } else rows = await this.database.query(sql, params);
    return rows.map(toStoredEvent);
  }

  subscribe<T = StoredEvent>(from: Checkpoint = START, options: SubscribeOptions<T> = {}): Observable<T> {
    return subscribeFeed(this, from, options);
  }

  /** The checkpoint of the newest event a gap-safe reader could see now (START if none). */
  async headCheckpoint(executor: SqlExecutor = this.database): Promise<Checkpoint> {
    const rows = await executor.query(
      `SELECT transaction_id::text AS transaction_id, position FROM events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1`,
    );
    return rows.length === 0 ? START : checkpointOf(toCheckpointRow(rows[0]!));
  }

  async headPosition(): Promise<number> {
    const [row] = await this.database.query(`SELECT coalesce(max(position), 0) AS head FROM events`);
    return toSafeInteger(row!.head, 'events.position');
  }

  async hasPosition(position: number): Promise<boolean> {
    const [row] = await this.database.query<{ reached: boolean }>(`SELECT EXISTS (SELECT 1 FROM events WHERE position >= $1) AS reached`, [position]);
    return row!.reached === true;
  }

  async countAfter(checkpoint: Checkpoint): Promise<number> {
    const [row] = await this.database.query(`SELECT count(*) AS n FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)`, [
      checkpoint.transactionId,
      checkpoint.position,
    ]);
    return Number(row!.n);
  }

  onAppend(listener: () => void): Promise<() => Promise<void>> {
    return this.database.listen(EVENTS_CHANNEL, () => listener());
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

  private async appendPrepared(executor: SqlExecutor, streamId: string, expected: ExpectedVersion, events: PreparedEvent[]): Promise<AppendResult> {
    const mode = expected === 'any' || expected === 'no-stream' ? expected : 'exact';
    if (mode === 'exact' && !(Number.isSafeInteger(expected) && (expected as number) >= 0)) {
      throw new Error(`expected version must be a non-negative integer, 'any' or 'no-stream'; got ${String(expected)}`);
    }
    // Hand-built JSON: data and metadata are already serialized, so nothing is parsed twice.
    const rows = `[${events
      .map((e) => `{"t":"${e.type}","sv":${e.schemaVersion},"d":${e.data},"m":${e.metadata},"k":${e.idempotencyKey === null ? 'null' : JSON.stringify(e.idempotencyKey)}}`)
      .join(',')}]`;
    try {
      // The transaction id and now() in the same statement are the appended rows' own
      // (transaction_id and created_at default to them), so the result needs no read-back.
      const [row] = await executor.query<{ result: unknown; transaction_id: unknown; created_at: unknown }>(
        APPEND_SQL,
        [streamId, mode, mode === 'exact' ? expected : null, rows],
        // a named statement: the per-step append skips the server's parse and plan
        { name: 'mctnas_append' },
      );
      const result = parseJson(row!.result) as { positions: unknown[]; version: unknown; duplicate: boolean };
      const positions = result.positions.map((p) => toSafeInteger(p, 'events.position'));
      const version = toSafeInteger(result.version, 'streams.version');
      if (result.duplicate) return { streamId, positions, version, duplicate: true, events: [] };
      const transactionId = toXid(row!.transaction_id, 'events.transaction_id');
      const createdAt = toDate(row!.created_at);
      const first = version - events.length + 1;
      const stored = events.map(
        (e, i) =>
          ({
            position: positions[i]!,
            streamId,
            streamVersion: first + i,
            type: e.type,
            schemaVersion: e.schemaVersion,
            // parsed back from the serialized payload: the values a reader gets (JSON round trip)
            data: JSON.parse(e.data) as unknown,
            metadata: JSON.parse(e.metadata) as EventMetadata,
            idempotencyKey: e.idempotencyKey,
            transactionId,
            createdAt,
          }) as StoredEvent,
      );
      return { streamId, positions, version, duplicate: false, events: stored };
    } catch (error) {
      throw translateAppendError(error, streamId, expected);
    }
  }
}

/** Maps the append function's SQLSTATEs (and the unique indexes' 23505) to typed errors. */
function translateAppendError(error: unknown, streamId: string, expected: ExpectedVersion): unknown {
  const detail = String((error as { detail?: unknown }).detail ?? '');
  switch (sqlState(error)) {
    case 'MN001':
      return new VersionConflictError(streamId, expected, Number(detail));
    case 'MN002':
      return new IdempotencyConflictError(streamId, detail, 'key already stored with a different payload');
    case 'MN003':
      return new IdempotencyConflictError(streamId, detail, 'a retried append must repeat exactly the original events: this batch mixes stored and new events');
    case '23505':
      // Unreachable while the stream row lock is held; the unique indexes are the last line of defence.
      return new VersionConflictError(streamId, expected, -1);
    default:
      return error;
  }
}

/**
 * Validates an append before anything is written (stream id, non-empty, catalogue schemas,
 * idempotency keys unique within the batch) and serializes data and metadata once.
 */
export function prepareEvents(streamId: string, events: readonly NewEvent[], defaultMetadata: Partial<EventMetadata>): PreparedEvent[] {
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
      metadata: JSON.stringify({ experimentId: streamId, ...defaultMetadata, ...event.metadata }),
      idempotencyKey: key,
    };
  });
}

export interface PreparedEvent {
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
    // Older schema versions read as the current version (catalog.ts: upcasters); never rewritten.
    data: upcastEvent(String(row.type), toSafeInteger(row.schema_version, 'events.schema_version'), parseJson(row.data)) as never,
    metadata: parseJson(row.metadata) as EventMetadata,
    idempotencyKey: row.idempotency_key === null || row.idempotency_key === undefined ? null : String(row.idempotency_key),
    transactionId: toXid(row.transaction_id, 'events.transaction_id'),
    createdAt: toDate(row.created_at),
  } as StoredEvent;
}

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function parseJson(value: unknown): never {
  return (typeof value === 'string' ? JSON.parse(value) : value) as never;
}
