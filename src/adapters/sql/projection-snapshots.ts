/** Projection snapshots in `projection_snapshots` (Postgres and PGlite). */
import { type SqlExecutor, toSafeInteger } from '../../database/database.js';
import { type ProjectionSnapshot, ProjectionSnapshots } from '../../experiments/ports.js';

export class SqlProjectionSnapshots extends ProjectionSnapshots {
  constructor(private readonly database: SqlExecutor) {
    super();
  }

  async load(streamId: string, atOrBefore: number): Promise<ProjectionSnapshot | null> {
    const rows = await this.database.query(
      `SELECT stream_version, position, tree, status FROM projection_snapshots
        WHERE stream_id = $1 AND position <= $2 ORDER BY stream_version DESC LIMIT 1`,
      [streamId, atOrBefore],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      streamId,
      version: toSafeInteger(row.stream_version, 'projection_snapshots.stream_version'),
      position: toSafeInteger(row.position, 'projection_snapshots.position'),
      tree: row.tree as Uint8Array,
      status: typeof row.status === 'string' ? JSON.parse(row.status) : row.status,
    };
  }

  async save(snapshot: ProjectionSnapshot): Promise<void> {
    await this.database.query(
      `INSERT INTO projection_snapshots (stream_id, stream_version, position, tree, status) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (stream_id, stream_version) DO NOTHING`,
      [snapshot.streamId, snapshot.version, snapshot.position, snapshot.tree, JSON.stringify(snapshot.status)],
    );
  }
}
