import type { SqlExecutor } from '../database/database.js';
import { toSafeInteger } from '../database/database.js';
import { SerialQueue } from '../database/serial-queue.js';
import { DomainError } from '../kernel/domain-error.js';
import type { StoredEvent } from '../events/stored-event.js';
import { TreeProjector } from '../tree/evolve.js';
import { deserialize, serialize } from '../tree/snapshot.js';
import { initialTreeState, type TreeState } from '../tree/state.js';
import type { ExperimentEventStore } from './experiment-event-store.js';
import { evolveStatus, type ExperimentStatus, initialStatus, statusFromSnapshot } from './experiment-status.js';

/** An experiment's projections at one stream version. */
export interface ExperimentView {
  readonly id: string;
  readonly tree: TreeState;
  readonly status: ExperimentStatus;
  /** stream version the view reflects (the expected version for the next append) */
  readonly version: number;
  /** global position of the last event applied */
  readonly position: number;
}

export class ExperimentNotFoundError extends DomainError {
  constructor(readonly experimentId: string) {
    super('not-found', 'ExperimentNotFoundError', `experiment '${experimentId}' not found`);
  }
}

export interface ProjectionOptions {
  /** write a snapshot when this many events were applied since the last one */
  readonly snapshotEvery?: number;
  /** events read per query while catching up */
  readonly pageSize?: number;
  /** experiments kept in memory */
  readonly maxCached?: number;
}

interface Live {
  readonly id: string;
  readonly projector: TreeProjector;
  status: ExperimentStatus;
  version: number;
  position: number;
  snapshotVersion: number;
  readonly queue: SerialQueue;
}

/**
 * Keeps each experiment's tree and status projections in memory, caught up from the event
 * store on every read, with snapshots in `projection_snapshots` as a pure cache: deleting them
 * gives the same state (rebuilt from event 0). Reads as of a past position fold from the
 * newest snapshot at or before it.
 */
export class ExperimentProjections {
  private readonly live = new Map<string, Live>();
  private readonly snapshotEvery: number;
  private readonly pageSize: number;
  private readonly maxCached: number;

  constructor(
    private readonly store: ExperimentEventStore,
    options: ProjectionOptions = {},
  ) {
    this.snapshotEvery = options.snapshotEvery ?? 20_000;
    this.pageSize = options.pageSize ?? 10_000;
    this.maxCached = options.maxCached ?? 16;
  }

  /**
   * Catches the experiment's projections up to the stream head and runs `read` on them. The
   * view's tree is the live state: valid only during the synchronous `read` call (no copy is
   * made, so this is cheap on trees of millions of nodes). Reads of one experiment are serialized.
   */
  async read<T>(id: string, read: (view: ExperimentView) => T): Promise<T> {
    const live = await this.liveFor(id);
    return live.queue.run(async () => {
      await this.catchUp(live);
      if (live.version === 0) throw new ExperimentNotFoundError(id);
      return read(this.viewOf(live, live.projector.view()));
    });
  }

  /** An immutable copy of the current view (safe to keep across awaits). */
  current(id: string): Promise<ExperimentView> {
    return this.readCopy(id);
  }

  /** The projections as of global position `position` (events after it are ignored). */
  async at(id: string, position: number): Promise<ExperimentView> {
    const snapshot = await this.loadSnapshot(id, position);
    const projector = new TreeProjector(snapshot?.tree ?? initialTreeState());
    let status = snapshot?.status ?? initialStatus;
    let version = snapshot?.version ?? 0;
    let last = snapshot?.position ?? 0;
    for (;;) {
      const page = await this.store.readStream(id, { fromVersion: version + 1, toPosition: position, limit: this.pageSize });
      for (const event of page) {
        projector.apply(event);
        status = evolveStatus(status, event);
        version = event.streamVersion;
        last = event.position;
      }
      if (page.length < this.pageSize) break;
    }
    if (version === 0) throw new ExperimentNotFoundError(id);
    return { id, tree: projector.state, status, version, position: last };
  }

  /** Drops cached state (tests; or after deleting snapshots). */
  forget(id?: string): void {
    if (id === undefined) this.live.clear();
    else this.live.delete(id);
  }

  private async readCopy(id: string): Promise<ExperimentView> {
    const live = await this.liveFor(id);
    return live.queue.run(async () => {
      await this.catchUp(live);
      if (live.version === 0) throw new ExperimentNotFoundError(id);
      return this.viewOf(live, live.projector.state);
    });
  }

  private viewOf(live: Live, tree: TreeState): ExperimentView {
    return { id: live.id, tree, status: live.status, version: live.version, position: live.position };
  }

  private async liveFor(id: string): Promise<Live> {
    let live = this.live.get(id);
    if (live) {
      // LRU: re-insert to mark as most recently used.
      this.live.delete(id);
      this.live.set(id, live);
      return live;
    }
    const snapshot = await this.loadSnapshot(id, Number.MAX_SAFE_INTEGER);
    live = this.live.get(id);
    if (live) return live;
    live = {
      id,
      projector: new TreeProjector(snapshot?.tree ?? initialTreeState()),
      status: snapshot?.status ?? initialStatus,
      version: snapshot?.version ?? 0,
      position: snapshot?.position ?? 0,
      snapshotVersion: snapshot?.version ?? 0,
      queue: new SerialQueue(),
    };
    this.live.set(id, live);
    while (this.live.size > this.maxCached) this.live.delete(this.live.keys().next().value!);
    return live;
  }

  private async catchUp(live: Live): Promise<void> {
    for (;;) {
      const page = await this.store.readStream(live.id, { fromVersion: live.version + 1, limit: this.pageSize });
      for (const event of page) this.applyLive(live, event);
      if (page.length < this.pageSize) break;
    }
    const database = this.store.database;
    if (database && live.version - live.snapshotVersion >= this.snapshotEvery) await this.saveSnapshot(live, database);
  }

  private applyLive(live: Live, event: StoredEvent): void {
    if (event.streamVersion !== live.version + 1) {
      throw new Error(`experiment '${live.id}': expected stream version ${live.version + 1}, read ${event.streamVersion}`);
    }
    live.projector.apply(event);
    live.status = evolveStatus(live.status, event);
    live.version = event.streamVersion;
    live.position = event.position;
  }

  private async saveSnapshot(live: Live, executor: SqlExecutor): Promise<void> {
    const tree = serialize(live.projector.view());
    await executor.query(
      `INSERT INTO projection_snapshots (stream_id, stream_version, position, tree, status) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (stream_id, stream_version) DO NOTHING`,
      [live.id, live.version, live.position, tree, JSON.stringify(live.status)],
    );
    live.snapshotVersion = live.version;
  }

  private async loadSnapshot(id: string, atOrBefore: number): Promise<{ tree: TreeState; status: ExperimentStatus; version: number; position: number } | null> {
    if (!this.store.database) return null;
    const rows = await this.store.database.query(
      `SELECT stream_version, position, tree, status FROM projection_snapshots
        WHERE stream_id = $1 AND position <= $2 ORDER BY stream_version DESC LIMIT 1`,
      [id, atOrBefore],
    );
    const row = rows[0];
    if (!row) return null;
    try {
      const tree = deserialize(row.tree as Uint8Array);
      return {
        tree,
        status: statusFromSnapshot(typeof row.status === 'string' ? JSON.parse(row.status) : row.status),
        version: toSafeInteger(row.stream_version, 'projection_snapshots.stream_version'),
        position: toSafeInteger(row.position, 'projection_snapshots.position'),
      };
    } catch {
      // A snapshot is only a cache: an unreadable one (e.g. an older format) means replaying from event 0.
      return null;
    }
  }
}
