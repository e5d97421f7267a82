/**
 * The append function `mctnas_append` (one statement per append: one round trip, one transaction
 * of its own unless the caller has one), shared by the migrations that create and replace it.
 * Each statement inside sees a fresh snapshot, so after waiting for the stream lock it sees
 * whatever the previous appender committed.
 */
export type KeyLookup = 'join' | 'probe';

const LOOKUPS: Record<KeyLookup, string> = {
  // 1764300000000: a join, which the planner (estimating 100 rows for jsonb_to_recordset) runs as
  // a hash join over every keyed event of the stream: an append slowed down as its stream grew.
  join: 'LEFT JOIN events e ON e.stream_id = p_stream AND e.idempotency_key = r.k',
  // 1764500000000: one index probe per appended event (OFFSET 0 keeps the subquery from being
  // flattened into that join), so an append costs the same at event 10 and at event 1,000,000.
  probe:
    'LEFT JOIN LATERAL (SELECT x.position, x.type, x.data FROM events x WHERE x.stream_id = p_stream AND x.idempotency_key = r.k OFFSET 0) e ON true',
};

export function appendFunctionSql(create: 'CREATE' | 'CREATE OR REPLACE', lookup: KeyLookup): string {
  return `
      ${create} FUNCTION mctnas_append(p_stream text, p_mode text, p_expected integer, p_events jsonb)
      RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE
        v_actual integer;
        v_count integer := jsonb_array_length(p_events);
        v_keyed integer;
        v_found integer;
        v_same integer;
        v_positions bigint[];
        v_key text;
      BEGIN
        INSERT INTO streams (stream_id, version) VALUES (p_stream, 0)
          ON CONFLICT (stream_id) DO UPDATE SET stream_id = EXCLUDED.stream_id
          RETURNING version INTO v_actual;

        SELECT count(r.k) INTO v_keyed FROM jsonb_to_recordset(p_events) AS r(k text);
        IF v_keyed > 0 THEN
          SELECT count(e.position), count(*) FILTER (WHERE e.type = r.t AND e.data = r.d),
                 array_agg(e.position ORDER BY r.ord),
                 min(r.k) FILTER (WHERE e.position IS NOT NULL AND (e.type <> r.t OR e.data <> r.d))
            INTO v_found, v_same, v_positions, v_key
            FROM ROWS FROM (jsonb_to_recordset(p_events) AS (k text, t text, d jsonb)) WITH ORDINALITY AS r(k, t, d, ord)
            ${LOOKUPS[lookup]};
          IF v_found > 0 THEN
            IF v_key IS NOT NULL THEN
              RAISE EXCEPTION 'idempotency key reused with a different payload' USING ERRCODE = 'MN002', DETAIL = v_key;
            END IF;
            IF v_found < v_count THEN
              SELECT min(r.k) INTO v_key FROM jsonb_to_recordset(p_events) AS r(k text)
                JOIN events e ON e.stream_id = p_stream AND e.idempotency_key = r.k;
              RAISE EXCEPTION 'retried append mixes stored and new events' USING ERRCODE = 'MN003', DETAIL = v_key;
            END IF;
            RETURN jsonb_build_object('positions', to_jsonb(v_positions), 'version', v_actual, 'duplicate', true);
          END IF;
        END IF;

        IF (p_mode = 'no-stream' AND v_actual <> 0) OR (p_mode = 'exact' AND v_actual <> p_expected) THEN
          RAISE EXCEPTION 'stream version conflict' USING ERRCODE = 'MN001', DETAIL = v_actual::text;
        END IF;

        WITH ins AS (
          INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, idempotency_key)
          SELECT p_stream, v_actual + r.ord::integer, r.t, r.sv, r.d, r.m, r.k
            FROM ROWS FROM (jsonb_to_recordset(p_events) AS (t text, sv smallint, d jsonb, m jsonb, k text)) WITH ORDINALITY AS r(t, sv, d, m, k, ord)
            ORDER BY r.ord
          RETURNING position, stream_version)
        SELECT array_agg(position ORDER BY stream_version) INTO v_positions FROM ins;

        UPDATE streams SET version = v_actual + v_count, updated_at = now() WHERE stream_id = p_stream;
        PERFORM pg_notify('mctnas_events', p_stream);
        RETURN jsonb_build_object('positions', to_jsonb(v_positions), 'version', v_actual + v_count, 'duplicate', false);
      END $$`;
}
