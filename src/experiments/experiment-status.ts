/**
 * The experiment's operational status — lifecycle, lease, backend, checkpoints — as a pure
 * projection of its events, alongside the tree projection (src/tree). Pure: no frameworks.
 */
import type { DomainEvent, EventData } from '../events/catalog.js';
import type { Phase } from '../tree/schedule.js';

export type Lifecycle = 'created' | 'running' | 'paused' | 'completed' | 'failed';

export interface Lease {
  readonly workerId: string;
  readonly leaseId: string;
  readonly expiresAt: string;
  readonly ttlMs: number;
}

export interface ExperimentStatus {
  readonly name: string | null;
  readonly lifecycle: Lifecycle;
  readonly phase: Phase | null;
  readonly lease: Lease | null;
  readonly backend: EventData<'TrainingBackendSelected'> | null;
  /** every CheckpointSaved, oldest first (pruned ones included: the audit shows what existed) */
  readonly checkpoints: readonly EventData<'CheckpointSaved'>[];
  /** the saved checkpoints not pruned since (their files should exist), oldest first */
  readonly retainedCheckpoints: readonly EventData<'CheckpointSaved'>[];
  /** steps of the checkpoints pinned by a user */
  readonly pinnedCheckpoints: readonly number[];
  readonly prunedCheckpoints: readonly EventData<'CheckpointPruned'>[];
  /** the last checkpoint write that failed, until a later checkpoint is saved */
  readonly checkpointFailure: EventData<'CheckpointWriteFailed'> | null;
  readonly pausedReason: string | null;
  readonly failure: string | null;
  readonly searches: readonly string[];
  readonly completedSearch: EventData<'SearchCompleted'> | null;
}

export const initialStatus: ExperimentStatus = Object.freeze({
  name: null,
  lifecycle: 'created',
  phase: null,
  lease: null,
  backend: null,
  checkpoints: [],
  retainedCheckpoints: [],
  pinnedCheckpoints: [],
  prunedCheckpoints: [],
  checkpointFailure: null,
  pausedReason: null,
  failure: null,
  searches: [],
  completedSearch: null,
});

export function evolveStatus(status: ExperimentStatus, event: DomainEvent): ExperimentStatus {
  switch (event.type) {
    case 'ExperimentCreated':
      return { ...status, name: event.data.name };
    case 'PhaseChanged':
      return { ...status, phase: event.data.to, lifecycle: status.lifecycle === 'created' ? 'running' : status.lifecycle };
    case 'ArchitectureSampled':
      return status.lifecycle === 'created' ? { ...status, lifecycle: 'running' } : status;
    case 'TrainingBackendSelected':
      return { ...status, backend: event.data };
    case 'CheckpointSaved':
      return {
        ...status,
        checkpoints: [...status.checkpoints, event.data],
        // a step saved again (replayed after a restore) replaces its earlier record
        retainedCheckpoints: [...status.retainedCheckpoints.filter((c) => c.step !== event.data.step), event.data].sort((a, b) => a.step - b.step),
        checkpointFailure: null,
      };
    case 'CheckpointPruned':
      return {
        ...status,
        retainedCheckpoints: status.retainedCheckpoints.filter((c) => c.step !== event.data.step),
        prunedCheckpoints: [...status.prunedCheckpoints, event.data],
      };
    case 'CheckpointPinned':
      return status.pinnedCheckpoints.includes(event.data.step) ? status : { ...status, pinnedCheckpoints: [...status.pinnedCheckpoints, event.data.step].sort((a, b) => a - b) };
    case 'CheckpointUnpinned':
      return { ...status, pinnedCheckpoints: status.pinnedCheckpoints.filter((s) => s !== event.data.step) };
    case 'CheckpointWriteFailed':
      return { ...status, checkpointFailure: event.data };
    case 'WorkerLeaseAcquired':
      return { ...status, lease: { workerId: event.data.workerId, leaseId: event.data.leaseId, expiresAt: event.data.expiresAt, ttlMs: event.data.ttlMs } };
    case 'WorkerHeartbeat':
      return status.lease?.leaseId === event.data.leaseId ? { ...status, lease: { ...status.lease, expiresAt: event.data.expiresAt } } : status;
    case 'WorkerLeaseReleased':
    case 'WorkerLeaseExpired':
      return status.lease?.leaseId === event.data.leaseId ? { ...status, lease: null } : status;
    case 'SearchStarted':
      return { ...status, searches: [...status.searches, event.data.searchId] };
    case 'SearchCompleted':
      return { ...status, completedSearch: event.data };
    case 'ExperimentPaused':
      return { ...status, lifecycle: 'paused', pausedReason: event.data.reason };
    case 'ExperimentResumed':
      return { ...status, lifecycle: 'running', pausedReason: null };
    case 'ExperimentCompleted':
      return { ...status, lifecycle: 'completed', lease: null };
    case 'ExperimentFailed':
      return { ...status, lifecycle: 'failed', failure: event.data.error };
    default:
      return status;
  }
}

/**
 * A status read back from a snapshot; a snapshot written before a field existed throws, and the
 * projection then replays from event 0 (snapshots are only a cache).
 */
export function statusFromSnapshot(raw: unknown): ExperimentStatus {
  if (typeof raw !== 'object' || raw === null) throw new Error('status snapshot is not an object');
  const missing = Object.keys(initialStatus).filter((key) => !(key in raw));
  if (missing.length > 0) throw new Error(`status snapshot predates ${missing.join(', ')}`);
  return raw as ExperimentStatus;
}

/** The lease in force at `now`, or null when none is held or it has expired. */
export function activeLease(status: ExperimentStatus, now: Date): Lease | null {
  return status.lease && Date.parse(status.lease.expiresAt) > now.getTime() ? status.lease : null;
}
