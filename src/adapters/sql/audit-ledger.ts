/**
 * The audit ledger over the events table, answered in SQL rather than by loading a stream into
 * memory: the per-node reward ledger, the G history, event pages. Every query is bounded by the
 * stream position the answer reflects. Postgres and PGlite.
 */
import type { Row, SqlExecutor } from '../../database/database.js';
import { type EventData, upcastEvent } from '../../events/catalog.js';
import { type Checkpoint, formatCheckpoint } from '../../events/stored-event.js';
import { type ApiEvent, AuditLedger, type EventsFilter, type EventsPage, type GHistoryEntry, type GHistoryPage, type LedgerEntry, type LedgerPage } from '../../experiments/ports.js';

const LEDGER_SQL = `
WITH touched AS (
  SELECT v.position, v.stream_version, v.created_at, v.metadata->>'workerId' AS worker,
         v.data->>'source' AS source, (v.data->>'step')::bigint AS step,
         (u->>'n')::numeric AS n, (u->>'s')::numeric AS s
    FROM events v
    CROSS JOIN LATERAL jsonb_array_elements(v.data->'nodes') AS u
   WHERE v.stream_id = $1 AND v.type = 'VisitCountsUpdated' AND v.position <= $4
     AND v.data->'nodes' @> $2::jsonb
     AND u->'path' = $3::jsonb
     -- a search started 'as-trained' restarts from training's tree: earlier searches' backups drop out
     AND (v.data->>'source' = 'training' OR v.position > coalesce((
           SELECT max(st.position) FROM events st
            WHERE st.stream_id = $1 AND st.type = 'SearchStarted' AND st.position <= $4 AND st.data->>'tree' = 'as-trained'), 0))
), deltas AS (
  SELECT *, n - coalesce(lag(n) OVER w, 0) AS dn, s - coalesce(lag(s) OVER w, 0) AS ds
    FROM touched WINDOW w AS (ORDER BY stream_version)
), totals AS (
  SELECT count(*) AS entries, coalesce(sum(dn), 0) AS total_n, coalesce(sum(ds), 0) AS total_s FROM deltas
), page AS (
  SELECT * FROM deltas WHERE stream_version > $5 ORDER BY stream_version LIMIT $6
)
SELECT t.entries, t.total_n, t.total_s,
       p.position, p.stream_version, p.created_at, p.worker, p.source, p.step, p.n, p.s, p.dn, p.ds,
       r.data AS reward_data, r.position AS reward_position,
       vb.data AS validation_data, vb.position AS validation_position,
       k.data AS checkpoint_data, k.position AS checkpoint_position
  FROM totals t
  LEFT JOIN page p ON true
  LEFT JOIN LATERAL (
    SELECT e.data, e.position FROM events e
     WHERE p.source = 'training' AND e.stream_id = $1 AND e.type = 'RewardRecorded'
       AND e.stream_version < p.stream_version AND e.data->'step' = to_jsonb(p.step)
     ORDER BY e.stream_version DESC LIMIT 1) r ON true
  LEFT JOIN LATERAL (
    SELECT e.data, e.position FROM events e
     WHERE p.source = 'search' AND e.stream_id = $1 AND e.type = 'ValidationBatchEvaluated'
       AND e.stream_version < p.stream_version AND e.data->'evaluation' = to_jsonb(p.step)
     ORDER BY e.stream_version DESC LIMIT 1) vb ON true
  LEFT JOIN LATERAL (
    SELECT e.data, e.position FROM events e
     WHERE e.stream_id = $1 AND e.type = 'CheckpointSaved' AND e.stream_version < p.stream_version
     ORDER BY e.stream_version DESC LIMIT 1) k ON true
 ORDER BY p.stream_version`;

const G_HISTORY_SQL = `
SELECT v.position, v.stream_version, v.data->>'source' AS source, (v.data->>'step')::bigint AS step,
       (SELECT jsonb_agg(x ORDER BY (x->>'layer')::int, (x->>'op')::int)
          FROM jsonb_array_elements(v.data->'g') AS x
         WHERE ($5::int IS NULL OR (x->>'layer')::int = $5) AND ($6::int IS NULL OR (x->>'op')::int = $6)) AS g
  FROM events v
 WHERE v.stream_id = $1 AND v.type = 'VisitCountsUpdated' AND v.position <= $2 AND v.stream_version > $3
   AND ($4::jsonb IS NULL OR v.data->'g' @> $4::jsonb)
 ORDER BY v.stream_version
 LIMIT $7`;

/**
 * An event's step: its payload's `step` (except a search's VisitCountsUpdated, whose step is
 * an evaluation index), else the `step` in its metadata. Type-checked so free-form metadata
 * can never make the cast fail.
 */
const EVENT_STEP = `CASE
  WHEN jsonb_typeof(e.data->'step') = 'number' AND NOT (e.type = 'VisitCountsUpdated' AND e.data->>'source' = 'search') THEN (e.data->>'step')::numeric
  WHEN jsonb_typeof(e.metadata->'step') = 'number' THEN (e.metadata->>'step')::numeric
END`;

const EVENTS_PAGE_SQL = `
WITH head AS (
  SELECT s.version, (SELECT position FROM events WHERE stream_id = $1 AND stream_version = s.version) AS position
    FROM streams s WHERE s.stream_id = $1
), page AS (
  SELECT e.position, e.stream_version, e.type, e.schema_version, e.data, e.metadata, e.created_at, e.transaction_id::text AS transaction_id
    FROM events e
   WHERE e.stream_id = $1 AND e.stream_version > $2 AND e.stream_version <= (SELECT version FROM head)
     AND ($3::jsonb IS NULL OR $3::jsonb ? e.type)
     AND ($4::numeric IS NULL OR ${EVENT_STEP} >= $4)
     AND ($5::numeric IS NULL OR ${EVENT_STEP} <= $5)
   ORDER BY e.stream_version
   LIMIT $6
)
SELECT head.version AS head_version, head.position AS head_position, page.*
  FROM head LEFT JOIN page ON true
 ORDER BY page.stream_version`;

const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;
const iso = (value: unknown): string => (value instanceof Date ? value : new Date(String(value))).toISOString();

export class SqlAuditLedger extends AuditLedger {
  constructor(private readonly database: SqlExecutor) {
    super();
  }

  /**
   * Every step that touched the node at `path` up to `position`: the VisitCountsUpdated events
   * whose `nodes` hold the path (jsonb containment narrows, exact equality decides), each
   * joined with the reward that caused it, its worker and the checkpoint current then. The
   * deltas are computed in numeric (exact decimal), so the totals equal the node's (n, S).
   */
  async ledger(streamId: string, path: readonly number[], position: number, after: number, limit: number): Promise<LedgerPage> {
    const rows = await this.database.query(LEDGER_SQL, [streamId, JSON.stringify([{ path }]), JSON.stringify(path), position, after, limit]);
    const first = rows[0]!;
    const entries = rows.filter((r) => r.stream_version !== null && r.stream_version !== undefined).map(toLedgerEntry);
    const totalEntries = num(first.entries);
    const last = entries[entries.length - 1];
    return {
      entries,
      totals: { entries: totalEntries, n: num(first.total_n), s: num(first.total_s) },
      next: entries.length === limit && last ? last.streamVersion : null,
    };
  }

  /** G updates from VisitCountsUpdated events, optionally for one layer and/or op. */
  async gHistory(streamId: string, position: number, filter: { layer?: number; op?: number }, after: number, limit: number): Promise<GHistoryPage> {
    const containment =
      filter.layer === undefined && filter.op === undefined
        ? null
        : JSON.stringify([{ ...(filter.layer !== undefined ? { layer: filter.layer } : {}), ...(filter.op !== undefined ? { op: filter.op } : {}) }]);
    const rows = await this.database.query(G_HISTORY_SQL, [streamId, position, after, containment, filter.layer ?? null, filter.op ?? null, limit]);
    const entries = rows.map(
      (r): GHistoryEntry => ({
        step: num(r.step),
        source: r.source as GHistoryEntry['source'],
        position: num(r.position),
        streamVersion: num(r.stream_version),
        values: json<GHistoryEntry['values'] | null>(r.g) ?? [],
      }),
    );
    return { entries, next: entries.length === limit ? entries[entries.length - 1]!.streamVersion : null };
  }

  /** A page of a stream's events after version `after`, filtered by type and step range. */
  async eventsPage(streamId: string, filter: EventsFilter, after: number, limit: number): Promise<EventsPage> {
    const rows = await this.database.query(EVENTS_PAGE_SQL, [
      streamId,
      after,
      filter.types ? JSON.stringify(filter.types) : null,
      filter.fromStep ?? null,
      filter.toStep ?? null,
      limit,
    ]);
    if (rows.length === 0) return { version: 0, position: 0, events: [], next: null };
    const head = rows[0]!;
    const events = rows.filter((r) => r.stream_version !== null && r.stream_version !== undefined).map(toApiEvent);
    return {
      version: num(head.head_version),
      position: num(head.head_position ?? 0),
      events,
      next: events.length === limit ? events[events.length - 1]!.streamVersion : null,
    };
  }
}

function toLedgerEntry(row: Row): LedgerEntry {
  const source = row.source as LedgerEntry['source'];
  const reward = row.reward_data ? json<EventData<'RewardRecorded'>>(row.reward_data) : null;
  const validation = row.validation_data ? json<EventData<'ValidationBatchEvaluated'>>(row.validation_data) : null;
  const checkpoint = row.checkpoint_data ? json<EventData<'CheckpointSaved'>>(row.checkpoint_data) : null;
  return {
    step: num(row.step),
    source,
    position: num(row.position),
    streamVersion: num(row.stream_version),
    recordedAt: iso(row.created_at),
    worker: row.worker === null || row.worker === undefined ? null : String(row.worker),
    n: num(row.n),
    s: num(row.s),
    dn: num(row.dn),
    ds: num(row.ds),
    loss: reward?.loss ?? validation?.loss ?? null,
    movingAverageLoss: reward?.movingAverageLoss ?? null,
    reward: reward?.reward ?? validation?.reward ?? null,
    rewardPosition: numOrNull(row.reward_position ?? row.validation_position),
    checkpoint: checkpoint ? { ...checkpoint, position: num(row.checkpoint_position) } : null,
  };
}

function toApiEvent(row: Row): ApiEvent {
  const checkpoint: Checkpoint = { transactionId: String(row.transaction_id), position: num(row.position) };
  return {
    position: num(row.position),
    streamVersion: num(row.stream_version),
    type: String(row.type),
    schemaVersion: num(row.schema_version),
    // as the event store reads it: older schema versions upcast to the current one
    data: upcastEvent(String(row.type), num(row.schema_version), json(row.data)),
    metadata: json(row.metadata),
    createdAt: iso(row.created_at),
    checkpoint: formatCheckpoint(checkpoint),
  };
}

