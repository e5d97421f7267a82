import { LRUCache } from 'lru-cache';
import { SerialQueue } from '../database/serial-queue.js';
import { DomainError } from '../kernel/domain-error.js';
import { VersionConflictError } from '../events/errors.js';
import type { StoredEvent } from '../events/stored-event.js';
import { TreeProjector } from '../tree/evolve.js';
import { deserialize, serialize } from '../tree/snapshot.js';
import { initialTreeState, type TreeState } from '../tree/state.js';
import type { AppendResult, NewEvent, StreamStore } from '../events/stream-store.js';
import { evolveStatus, type ExperimentStatus, initialStatus, statusFromSnapshot } from './experiment-status.js';
import type { ProjectionSnapshots } from './ports.js';

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

/** What a command decided: events to append at the view's version, and how to answer. */
export interface Decision<R> {
  readonly events: readonly NewEvent[];
  readonly answer: (appended: AppendResult | null) => R;
  /** what the command can answer before its events are committed (write-behind) */
  readonly ahead?: unknown;
}

/**
 * Decides a command on a view. `stage(events)` applies events the command will append first
 * (before the decision's own) to the tree now and returns the view they lead to, so one
 * command can decide on the result of another (a step's reward, then the next step's sample)
 * and commit both in one append.
 */
export type Decide<R> = (view: ExperimentView, stage: (events: readonly NewEvent[]) => ExperimentView) => Decision<R>;

/**
 * A command that lost the race for the stream version decides again on the new view. Commands
 * are idempotent for whoever may issue them (a lease holder's heartbeat or re-acquisition, a
 * retried tell), so losing a race must never surface as a 409: contention on one stream is
 * resolved by retrying with a short random back-off, up to this many attempts.
 */
const MAX_ATTEMPTS = 100;
const BACKOFF_MS = 5;

export class ExperimentNotFoundError extends DomainError {
  constructor(readonly experimentId: string) {
    super('not-found', 'ExperimentNotFoundError', `experiment '${experimentId}' not found`);
  }
}

export interface ProjectionOptions {
  /** where snapshots are kept; none: every cold read replays from event 0 */
  readonly snapshots?: ProjectionSnapshots | null;
  /** write a snapshot when this many events were applied since the last one */
  readonly snapshotEvery?: number;
  /** events read per query while catching up */
  readonly pageSize?: number;
  /** experiments kept in memory */
  readonly maxCached?: number;
}

interface Live {
  readonly id: string;
  projector: TreeProjector;
  status: ExperimentStatus;
  version: number;
  position: number;
  snapshotVersion: number;
  /**
   * True when the projection holds every event up to the stream head as far as this process
   * knows (it caught up, then only its own appends followed). Commands then decide without a
   * read; another writer shows up as a version conflict, which catches up and decides again.
   */
  atHead: boolean;
  /** the projector holds staged events whose commit failed: rebuilt from the newest snapshot before the next read */
  dirty: boolean;
  readonly queue: SerialQueue;
}

/**
 * Keeps each experiment's tree and status projections in memory (the `maxCached` most recently
 * read), caught up from the event store on every read, with snapshots (the ProjectionSnapshots
 * port) as a pure cache: deleting them gives the same state (rebuilt from event 0). Reads as
 * of a past position fold from the newest snapshot at or before it.
 */
export class ExperimentProjections {
  private readonly live: LRUCache<string, Live>;
  private readonly snapshots: ProjectionSnapshots | null;
  private readonly snapshotEvery: number;
  private readonly pageSize: number;

  constructor(
    private readonly store: StreamStore,
    options: ProjectionOptions = {},
  ) {
    this.snapshotEvery = options.snapshotEvery ?? 20_000;
    this.pageSize = options.pageSize ?? 10_000;
    this.snapshots = options.snapshots ?? null;
    this.live = new LRUCache<string, Live>({ max: options.maxCached ?? 16 });
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

  /**
   * Runs a command: decides on the projections, appends the decided events at the version
   * decided on, and advances the projections from what was appended (no read-back). The
   * decision is taken on the cached projection without a read when this process's own appends
   * are the last it knows of; a version conflict (someone else appended) catches up and decides
   * again, as does a decision that appends nothing or refuses (it may have seen a stale view).
   * `onDecided` runs once the events are decided, before they are committed (write-behind);
   * the next command on the experiment waits for this one's commit.
   */
  async execute<R>(id: string, decide: Decide<R>, onDecided?: (decision: Decision<R>) => void): Promise<R> {
    const live = await this.liveFor(id);
    return live.queue.run(async () => {
      for (let attempt = 1; ; attempt++) {
        const readNow = !live.atHead;
        if (readNow) await this.catchUp(live);
        if (live.version === 0) throw new ExperimentNotFoundError(id);
        const staged: NewEvent[] = [];
        let decision: Decision<R>;
        try {
          decision = decide(this.viewOf(live, live.projector.view()), (events) => this.stage(live, staged, events));
        } catch (error) {
          this.invalidate(live, staged.length > 0);
          if (readNow) throw error;
          continue; // the refusal may come from a stale view: decide again on the head
        }
        const events = staged.length === 0 ? decision.events : [...staged, ...decision.events];
        if (events.length === 0) {
          if (readNow) return decision.answer(null);
          live.atHead = false;
          continue;
        }
        onDecided?.(decision);
        let appended: AppendResult;
        try {
          appended = await this.store.append(id, live.version, events);
        } catch (error) {
          this.invalidate(live, staged.length > 0);
          if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
          // Lets the racing appenders finish before deciding again (one hot stream otherwise
          // keeps re-reading behind the same writer).
          await new Promise((resolve) => setTimeout(resolve, Math.random() * BACKOFF_MS * Math.min(attempt, 10)));
          continue;
        }
        if (appended.duplicate) {
          // Stored before (an earlier, ambiguous commit): nothing was written; read the head next time.
          this.invalidate(live, staged.length > 0);
        } else {
          appended.events.forEach((event, i) => this.applyLive(live, event, i < staged.length));
          if (this.snapshots && live.version - live.snapshotVersion >= this.snapshotEvery) await this.saveSnapshot(live, this.snapshots);
        }
        return decision.answer(appended);
      }
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
    if (live) return live;
    const snapshot = await this.loadSnapshot(id, Number.MAX_SAFE_INTEGER);
    live = this.live.get(id);
    if (live) return live;
    live = { id, ...fromSnapshot(snapshot), atHead: false, dirty: false, queue: new SerialQueue() };
    this.live.set(id, live);
    return live;
  }

  /**
   * The next read catches up; with `staged`, the projector holds events that were not (or not
   * knowingly) committed, so it first goes back to the newest snapshot. Synchronous: nothing
   * can fail between a failed commit and the mark.
   */
  private invalidate(live: Live, staged: boolean): void {
    live.atHead = false;
    if (staged) live.dirty = true;
  }

  /** Applies a command's leading events to the tree before they are appended (their versions follow the view's). */
  private stage(live: Live, staged: NewEvent[], events: readonly NewEvent[]): ExperimentView {
    for (const event of events) {
      staged.push(event);
      // a JSON round trip: the values a reader of the stored event gets
      live.projector.apply({ type: event.type, data: JSON.parse(JSON.stringify(event.data)), streamVersion: live.version + staged.length } as never);
    }
    return this.viewOf(live, live.projector.view());
  }

  private async catchUp(live: Live): Promise<void> {
    if (live.dirty) {
      Object.assign(live, fromSnapshot(await this.loadSnapshot(live.id, Number.MAX_SAFE_INTEGER)));
      live.dirty = false;
    }
    for (;;) {
      const page = await this.store.readStream(live.id, { fromVersion: live.version + 1, limit: this.pageSize });
      for (const event of page) this.applyLive(live, event);
      if (page.length < this.pageSize) break;
    }
    live.atHead = true;
    if (this.snapshots && live.version - live.snapshotVersion >= this.snapshotEvery) await this.saveSnapshot(live, this.snapshots);
  }

  /** `staged`: the tree already holds the event (applied before its commit gave it a position). */
  private applyLive(live: Live, event: StoredEvent, staged = false): void {
    if (event.streamVersion !== live.version + 1) {
      throw new Error(`experiment '${live.id}': expected stream version ${live.version + 1}, read ${event.streamVersion}`);
    }
    if (staged) live.projector.settle(event.position);
    else live.projector.apply(event);
    live.status = evolveStatus(live.status, event);
    live.version = event.streamVersion;
    live.position = event.position;
  }

  private async saveSnapshot(live: Live, snapshots: ProjectionSnapshots): Promise<void> {
    await snapshots.save({ streamId: live.id, version: live.version, position: live.position, tree: serialize(live.projector.view()), status: live.status });
    live.snapshotVersion = live.version;
  }

  private async loadSnapshot(id: string, atOrBefore: number): Promise<{ tree: TreeState; status: ExperimentStatus; version: number; position: number } | null> {
    if (!this.snapshots) return null;
    const snapshot = await this.snapshots.load(id, atOrBefore);
    if (!snapshot) return null;
    try {
      // A status of an older shape lacks fields this version derives: statusFromSnapshot refuses it (replay instead).
      return { tree: deserialize(snapshot.tree), status: statusFromSnapshot(snapshot.status), version: snapshot.version, position: snapshot.position };
    } catch {
      // A snapshot is only a cache: an unreadable one (e.g. an older format) means replaying from event 0.
      return null;
    }
  }
}

function fromSnapshot(snapshot: { tree: TreeState; status: ExperimentStatus; version: number; position: number } | null) {
  return {
    projector: new TreeProjector(snapshot?.tree ?? initialTreeState()),
    status: snapshot?.status ?? initialStatus,
    version: snapshot?.version ?? 0,
    position: snapshot?.position ?? 0,
    snapshotVersion: snapshot?.version ?? 0,
  };
}
