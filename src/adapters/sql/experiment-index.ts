/** The experiment index over the events table (Postgres and PGlite). */
import { type SqlExecutor, toSafeInteger } from '../../database/database.js';
import type { StatusEvent } from '../../experiments/experiment-status.js';
import { type ExperimentEntry, ExperimentIndex, type ExperimentPage, type LeaseEvents } from '../../experiments/ports.js';

const LEASE_TYPES = ['WorkerLeaseAcquired', 'WorkerHeartbeat', 'WorkerLeaseReleased', 'WorkerLeaseExpired', 'ExperimentCompleted'];

const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

export class SqlExperimentIndex extends ExperimentIndex {
  constructor(private readonly database: SqlExecutor) {
    super();
  }

  async list(page: ExperimentPage = {}): Promise<ExperimentEntry[]> {
    const rows = await this.database.query(
      `SELECT stream_id, data->>'name' AS name, position, created_at FROM events
        WHERE type = 'ExperimentCreated' AND position > $1 ORDER BY position LIMIT $2`,
      [page.after ?? 0, page.limit ?? null],
    );
    return rows.map((r) => ({ id: String(r.stream_id), name: String(r.name), position: toSafeInteger(r.position, 'events.position'), createdAt: new Date(String(r.created_at)) }));
  }

  /**
   * Per experiment, its newest WorkerLeaseAcquired and its newest lease or completion event:
   * a handful of index probes each, whatever the number of heartbeats.
   */
  async leaseEvents(): Promise<LeaseEvents[]> {
    const probe = (type: string) =>
      `(SELECT type, data, stream_version, position FROM events WHERE stream_id = x.stream_id AND type = '${type}' ORDER BY stream_version DESC LIMIT 1)`;
    const rows = await this.database.query(
      `SELECT x.stream_id, a.type AS acquired_type, a.data AS acquired_data, a.stream_version AS acquired_version, a.position AS acquired_position,
              l.type AS last_type, l.data AS last_data, l.stream_version AS last_version, l.position AS last_position
         FROM events x
         LEFT JOIN LATERAL ${probe('WorkerLeaseAcquired')} a ON true
         LEFT JOIN LATERAL (
           SELECT * FROM (${LEASE_TYPES.map(probe).join(' UNION ALL ')}) last
            ORDER BY stream_version DESC LIMIT 1) l ON true
        WHERE x.type = 'ExperimentCreated'
        ORDER BY x.position`,
    );
    return rows.map((r) => {
      const events: StatusEvent[] = [];
      if (r.acquired_type) events.push({ type: r.acquired_type, data: json(r.acquired_data), position: Number(r.acquired_position) } as StatusEvent);
      if (r.last_type && Number(r.last_version) !== Number(r.acquired_version)) events.push({ type: r.last_type, data: json(r.last_data), position: Number(r.last_position) } as StatusEvent);
      return { experimentId: String(r.stream_id), events };
    });
  }
}
