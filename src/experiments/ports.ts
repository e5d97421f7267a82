/**
 * The read models and repositories of the experiments context, as ports: abstract classes the
 * application and the HTTP edge depend on (they double as Nest injection tokens). Each has a
 * Postgres/PGlite adapter in src/adapters/sql/ and an in-memory one in src/adapters/memory/;
 * src/runtime.ts wires them, and test/adapters/ports.contract.test.ts runs one spec on every
 * adapter. No SQL outside those adapters (and the event store itself).
 */
import type { EventData, EventType } from '../events/catalog.js';
import { checkpointOf, formatCheckpoint, type StoredEvent } from '../events/stored-event.js';
import type { StatusEvent } from './experiment-status.js';

/** A cached projection state: a pure cache, deleting it only costs a replay. */
export interface ProjectionSnapshot {
  readonly streamId: string;
  readonly version: number;
  readonly position: number;
  /** the tree state, serialized by src/tree/snapshot.ts */
  readonly tree: Uint8Array;
  /** the status projection (plain JSON) */
  readonly status: unknown;
}

export abstract class ProjectionSnapshots {
  /** The newest snapshot of the stream at or before global position `atOrBefore`, or null. */
  abstract load(streamId: string, atOrBefore: number): Promise<ProjectionSnapshot | null>;
  /** Stores a snapshot; a second one at the same stream version is ignored. */
  abstract save(snapshot: ProjectionSnapshot): Promise<void>;
}

export interface ExperimentEntry {
  readonly id: string;
  readonly name: string;
  /** position of its ExperimentCreated */
  readonly position: number;
  readonly createdAt: Date;
}

/** The lease-deciding events of one experiment: its newest WorkerLeaseAcquired and the newest lease or completion event after it. */
export interface LeaseEvents {
  readonly experimentId: string;
  readonly events: readonly StatusEvent[];
}

export interface ExperimentPage {
  /** only experiments whose ExperimentCreated is after this position */
  readonly after?: number;
  readonly limit?: number;
}

export abstract class ExperimentIndex {
  /** Every experiment, oldest first; a page of them: those created after position `after`, at most `limit`. */
  abstract list(page?: ExperimentPage): Promise<ExperimentEntry[]>;
  /**
   * For every experiment, the few events that decide its lease (folded by the status
   * projection: `leaseFromEvents` in experiment-status.ts), whatever the number of heartbeats.
   */
  abstract leaseEvents(): Promise<LeaseEvents[]>;
}

export interface LedgerEntry {
  /** training step (or search evaluation index when source = 'search') */
  readonly step: number;
  readonly source: 'training' | 'search';
  /** the VisitCountsUpdated event */
  readonly position: number;
  readonly streamVersion: number;
  readonly recordedAt: string;
  readonly worker: string | null;
  /** the node's n and S after this step */
  readonly n: number;
  readonly s: number;
  /** what this step added to the node */
  readonly dn: number;
  readonly ds: number;
  /** the training loss (or validation-batch loss) that produced the reward */
  readonly loss: number | null;
  /** Ltilde after this step (training only) */
  readonly movingAverageLoss: number | null;
  /** Q = Ltilde / loss (or the validation reward) */
  readonly reward: number | null;
  /** position of the RewardRecorded / ValidationBatchEvaluated event */
  readonly rewardPosition: number | null;
  /** the newest checkpoint saved before this step was recorded */
  readonly checkpoint: (EventData<'CheckpointSaved'> & { position: number }) | null;
}

export interface LedgerPage {
  readonly entries: LedgerEntry[];
  /** over the whole ledger up to the position: they equal the node's (n, S) */
  readonly totals: { readonly entries: number; readonly n: number; readonly s: number };
  /** pass as `after` for the next page; null on the last page */
  readonly next: number | null;
}

export interface GHistoryEntry {
  readonly step: number;
  readonly source: 'training' | 'search';
  readonly position: number;
  readonly streamVersion: number;
  readonly values: { layer: number; op: number; value: number }[];
}

export interface GHistoryPage {
  readonly entries: GHistoryEntry[];
  readonly next: number | null;
}

export interface EventsPage {
  /** stream head the page was read against (0/0 for an unknown stream) */
  readonly version: number;
  readonly position: number;
  readonly events: ApiEvent[];
  readonly next: number | null;
}

export interface ApiEvent {
  readonly position: number;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly createdAt: string;
  /** gap-safe checkpoint `txid:position` (the SSE event id) */
  readonly checkpoint: string;
}

export interface EventsFilter {
  readonly types?: readonly EventType[];
  readonly fromStep?: number;
  readonly toStep?: number;
}

/**
 * The audit reads over a stream's history, each bounded by the stream position the answer
 * reflects (so it agrees with the projection view it is served with): per-node reward ledgers,
 * the G history and event pages.
 */
export abstract class AuditLedger {
  /**
   * Every step that touched the node at `path` up to `position`, each with the reward that
   * caused it, its worker and the checkpoint current then; totals over the whole ledger.
   */
  abstract ledger(streamId: string, path: readonly number[], position: number, after: number, limit: number): Promise<LedgerPage>;
  /** G updates from VisitCountsUpdated events up to `position`, optionally for one layer and/or op. */
  abstract gHistory(streamId: string, position: number, filter: { layer?: number; op?: number }, after: number, limit: number): Promise<GHistoryPage>;
  /** A page of a stream's events after version `after`, filtered by type and step range. */
  abstract eventsPage(streamId: string, filter: EventsFilter, after: number, limit: number): Promise<EventsPage>;
}

/** The API form of a stored event (event pages and SSE). */
export function apiEventOf(event: StoredEvent): ApiEvent {
  return {
    position: event.position,
    streamVersion: event.streamVersion,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    createdAt: event.createdAt.toISOString(),
    checkpoint: formatCheckpoint(checkpointOf(event)),
  };
}
