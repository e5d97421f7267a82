import type { MigrationInterface, QueryRunner } from 'typeorm';
import { appendFunctionSql } from './append-function.js';

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
    await q.query(appendFunctionSql('CREATE', 'join'));
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
