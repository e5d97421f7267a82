import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The node ledger (GET /experiments/:id/nodes/:path) finds the VisitCountsUpdated events whose
 * `nodes` contain a path by jsonb containment; this index answers that without scanning the
 * stream. Partial: other event types pay nothing for it.
 */
export class LedgerIndex1764400000000 implements MigrationInterface {
  name = 'LedgerIndex1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_visit_nodes ON events USING gin ((data->'nodes') jsonb_path_ops) WHERE type = 'VisitCountsUpdated'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX events_visit_nodes`);
  }
}
