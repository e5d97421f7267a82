import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The append-only event store: one row per event, ordered globally by (transaction_id,
 * position) for gap-safe readers, per stream by stream_version; idempotency keys unique per
 * stream; UPDATE/DELETE/TRUNCATE refused by triggers so history cannot be rewritten.
 */
export class EventStore1764300000000 implements MigrationInterface {
  name = 'EventStore1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE streams (
        stream_id text PRIMARY KEY,
        version integer NOT NULL CHECK (version >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version >= 1),
        type text NOT NULL,
        schema_version smallint NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        idempotency_key text,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    await q.query(`CREATE UNIQUE INDEX events_idempotency_key_unique ON events (stream_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX events_global_order ON events (transaction_id, position)`);
    await q.query(`CREATE INDEX events_stream_global_order ON events (stream_id, transaction_id, position)`);
    await q.query(`CREATE INDEX events_stream_type ON events (stream_id, type, stream_version)`);
    await q.query(`CREATE INDEX events_experiments ON events (position) WHERE type = 'ExperimentCreated'`);
    await q.query(`
      CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()`);
    await q.query(`CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()`);
    // The whole append in one statement (one round trip; a transaction of its own unless the
    // caller has one). Each statement inside sees a fresh snapshot, so after waiting for the
    // stream lock it sees whatever the previous appender committed.
    await q.query(`
      CREATE FUNCTION mctnas_append(p_stream text, p_mode text, p_expected integer, p_events jsonb)
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
            LEFT JOIN events e ON e.stream_id = p_stream AND e.idempotency_key = r.k;
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
      END $$`);
    await q.query(`
      CREATE TABLE projection_checkpoints (
        name text PRIMARY KEY,
        transaction_id xid8 NOT NULL,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE projection_snapshots (
        stream_id text NOT NULL,
        stream_version integer NOT NULL,
        position bigint NOT NULL,
        tree bytea NOT NULL,
        status jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream_id, stream_version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE projection_snapshots`);
    await q.query(`DROP TABLE projection_checkpoints`);
    await q.query(`DROP FUNCTION mctnas_append(text, text, integer, jsonb)`);
    await q.query(`DROP TABLE events`);
    await q.query(`DROP FUNCTION events_append_only()`);
    await q.query(`DROP TABLE streams`);
  }
}
