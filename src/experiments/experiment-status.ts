/**
 * The experiment's operational status — lifecycle, lease, backend, checkpoints, search
 * summaries — as a pure projection of its events, alongside the tree projection (src/tree).
 * Whether a lease is held (`activeLease`) and what each search did (`searchSummaries`) are
 * derived here once; the service, the HTTP edge and the metrics read them from here.
 * Pure: no frameworks.
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

/** What one search did, up to the view's position. */
export interface SearchSummary {
  readonly searchId: string;
  /** position of its SearchStarted */
  readonly position: number;
  readonly strategy: string;
  readonly candidates: number;
  readonly topK: number;
  readonly referenceLoss: number;
  readonly flopsWindow: unknown;
  readonly validationBatchEvaluations: number;
  /** removed candidates by reason */
  readonly removed: Readonly<Record<string, number>>;
  readonly evaluations: readonly (EventData<'CandidateEvaluated'> & { position: number })[];
  readonly result: (EventData<'SearchCompleted'> & { position: number }) | null;
}

/** An event as the status projection folds it: its type, payload and global position. */
export type StatusEvent = DomainEvent & { readonly position: number };

export interface ExperimentStatus {
  readonly name: string | null;
  readonly lifecycle: Lifecycle;
  /** claim order of pool workers: higher first, then creation order (ExperimentPrioritized; default 0) */
  readonly priority: number;
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
  readonly searchSummaries: readonly SearchSummary[];
  /** every RankingAnalysisRecorded, oldest first, with its position */
  readonly rankingAnalyses: readonly RankingAnalysis[];
}

/** A recorded ranking analysis as the status projection keeps it. */
export type RankingAnalysis = EventData<'RankingAnalysisRecorded'> & { readonly position: number };

export const initialStatus: ExperimentStatus = Object.freeze({
  name: null,
  lifecycle: 'created',
  priority: 0,
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
  searchSummaries: [],
  rankingAnalyses: [],
});

export function evolveStatus(status: ExperimentStatus, event: StatusEvent): ExperimentStatus {
  switch (event.type) {
    case 'ExperimentCreated':
      return { ...status, name: event.data.name };
    case 'ExperimentPrioritized':
      return { ...status, priority: event.data.priority };
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
    case 'SearchStarted': {
      const d = event.data;
      const summary: SearchSummary = {
        searchId: d.searchId,
        position: event.position,
        strategy: d.strategy,
        candidates: d.candidates,
        topK: d.topK,
        referenceLoss: d.referenceLoss,
        flopsWindow: d.flopsWindow,
        validationBatchEvaluations: 0,
        removed: {},
        evaluations: [],
        result: null,
      };
      return { ...status, searches: [...status.searches, d.searchId], searchSummaries: [...status.searchSummaries, summary] };
    }
    case 'ValidationBatchEvaluated':
      return updateSearch(status, event.data.searchId, (s) => ({ ...s, validationBatchEvaluations: s.validationBatchEvaluations + 1 }));
    case 'CandidateRemoved':
      return updateSearch(status, event.data.searchId, (s) => ({ ...s, removed: { ...s.removed, [event.data.reason]: (s.removed[event.data.reason] ?? 0) + 1 } }));
    case 'CandidateEvaluated':
      return updateSearch(status, event.data.searchId, (s) => ({ ...s, evaluations: [...s.evaluations, { ...event.data, position: event.position }] }));
    case 'SearchCompleted':
      return updateSearch({ ...status, completedSearch: event.data }, event.data.searchId, (s) => ({ ...s, result: { ...event.data, position: event.position } }));
    case 'RankingAnalysisRecorded':
      return { ...status, rankingAnalyses: [...status.rankingAnalyses, { ...event.data, position: event.position }] };
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
export function activeLease(status: Pick<ExperimentStatus, 'lease'>, now: Date): Lease | null {
  return status.lease && Date.parse(status.lease.expiresAt) > now.getTime() ? status.lease : null;
}

/** The status with one search's summary replaced (unchanged when the search never started). */
function updateSearch(status: ExperimentStatus, searchId: string, update: (summary: SearchSummary) => SearchSummary): ExperimentStatus {
  const i = status.searchSummaries.findIndex((s) => s.searchId === searchId);
  if (i < 0) return status;
  const searchSummaries = [...status.searchSummaries];
  searchSummaries[i] = update(searchSummaries[i]!);
  return { ...status, searchSummaries };
}

/** The lease the status projection holds after `events` (e.g. an index's lease-deciding events). */
export function leaseFromEvents(events: readonly StatusEvent[]): Lease | null {
  return events.reduce(evolveStatus, initialStatus).lease;
}
