/**
 * The closed, versioned catalogue of experiment events. Each type has a runtime schema (zod)
 * and a schema version; the event store rejects unknown types and invalid payloads before
 * anything is written. Pure module: no Nest, TypeORM or tfjs.
 */
import { z } from 'zod';
import { DomainError } from '../kernel/domain-error.js';
import { issueField } from '../kernel/parse.js';
import { rankingAnalysisRecordedSchema } from '../analysis/ranking-analysis.js';
import { searchConfigSchema, strategyNameSchema } from '../search/config.js';
import {
  architectureSampledSchema,
  candidateEvaluatedSchema,
  candidateRemovedSchema,
  experimentCreatedSchema,
  phaseChangedSchema,
  rewardRecordedSchema,
  searchCompletedSchema,
  searchStartedSchema,
  type TreeEvent,
  type TreeEventType,
  validationBatchEvaluatedSchema,
  visitCountsUpdatedSchema,
} from '../tree/events.js';

const nonNegInt = z.number().int().nonnegative();

/** Every event type with its current schema version and payload schema. */
export const eventCatalog = {
  ExperimentCreated: { version: 2, schema: experimentCreatedSchema.extend({ search: searchConfigSchema }) },
  PhaseChanged: { version: 1, schema: phaseChangedSchema },
  TrainingBackendSelected: {
    version: 1,
    schema: z.object({
      backend: z.string(),
      skipped: z.array(z.object({ backend: z.string(), reason: z.string() })),
    }),
  },
  ArchitectureSampled: { version: 2, schema: architectureSampledSchema },
  RewardRecorded: { version: 1, schema: rewardRecordedSchema },
  VisitCountsUpdated: { version: 1, schema: visitCountsUpdatedSchema },
  /**
   * v2: `location` is the store's location (local directory: relative to the checkpoint root,
   * `$MCTNAS_DATA_DIR/checkpoints`; v1 locations were paths as the process saw them and still
   * resolve), plus the adapter kind and when the stored bytes were read back and verified.
   */
  CheckpointSaved: {
    version: 2,
    schema: z.object({
      step: nonNegInt,
      epoch: nonNegInt,
      location: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      size: nonNegInt,
      streamPosition: nonNegInt,
      store: z.string().min(1).optional(),
      verifiedAt: z.string().optional(),
    }),
  },
  /** A checkpoint file deleted by the retention policy (recorded before the file is deleted). */
  CheckpointPruned: {
    version: 1,
    schema: z.object({
      step: nonNegInt,
      location: z.string().min(1),
      reason: z.string().max(1000),
      policy: z.object({ keepLast: z.number().int().positive().nullable(), keepEvery: z.number().int().positive().nullable() }),
    }),
  },
  /** A user keeps a checkpoint whatever the retention policy says (API or CLI). */
  CheckpointPinned: { version: 1, schema: z.object({ step: nonNegInt, reason: z.string().max(1000) }) },
  CheckpointUnpinned: { version: 1, schema: z.object({ step: nonNegInt, reason: z.string().max(1000) }) },
  /** The store refused a checkpoint (full disk, I/O error, permission); nothing was stored. */
  CheckpointWriteFailed: {
    version: 1,
    schema: z.object({ step: nonNegInt, store: z.string().min(1), failure: z.string().min(1), message: z.string().max(2000) }),
  },
  WorkerLeaseAcquired: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1), ttlMs: z.number().int().positive(), expiresAt: z.string() }),
  },
  WorkerHeartbeat: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1), expiresAt: z.string() }),
  },
  WorkerLeaseReleased: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1) }),
  },
  WorkerLeaseExpired: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1), expiredAt: z.string(), detectedBy: z.string() }),
  },
  SearchStarted: { version: 3, schema: searchStartedSchema.extend({ strategy: strategyNameSchema }) },
  ValidationBatchEvaluated: { version: 2, schema: validationBatchEvaluatedSchema },
  CandidateRemoved: { version: 2, schema: candidateRemovedSchema },
  CandidateEvaluated: { version: 1, schema: candidateEvaluatedSchema },
  SearchCompleted: { version: 1, schema: searchCompletedSchema },
  /**
   * A supernet's ranking of a stand-alone table's architectures (src/analysis/ranking-analysis.ts):
   * the pairs (stand-alone, supernet accuracy) and the report computed from them when recorded.
   */
  RankingAnalysisRecorded: { version: 1, schema: rankingAnalysisRecordedSchema },
  ExperimentPaused: { version: 1, schema: z.object({ reason: z.string().max(1000) }) },
  /** The order in which pool workers claim it: higher first, then oldest first (default 0). */
  ExperimentPrioritized: { version: 1, schema: z.object({ priority: z.number().int().min(-1_000_000).max(1_000_000), reason: z.string().max(1000) }) },
  ExperimentResumed: { version: 1, schema: z.object({ reason: z.string().max(1000) }) },
  ExperimentCompleted: { version: 1, schema: z.object({ step: nonNegInt }) },
  ExperimentFailed: { version: 1, schema: z.object({ error: z.string().max(10000), step: nonNegInt.nullable() }) },
} as const;

export type EventCatalog = typeof eventCatalog;
export type EventType = keyof EventCatalog;
export type EventData<T extends EventType> = z.infer<EventCatalog[T]['schema']>;

/** A domain event before it is stored: the discriminated union over the catalogue. */
export type DomainEvent = { [T in EventType]: { readonly type: T; readonly data: EventData<T> } }[EventType];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

/**
 * Compile-time check: the catalogue records every event the tree folds, and each of them is a
 * `TreeEvent`, so `evolve` reads every stored event of those types as the core defines it.
 */
type Holds<T extends true> = T;
export type CatalogueFeedsTheTree = Holds<
  [TreeEventType] extends [EventType] ? ([Extract<DomainEvent, { type: TreeEventType }>] extends [TreeEvent] ? true : false) : false
>;

export const eventTypes = Object.keys(eventCatalog) as EventType[];

type Payload = Record<string, unknown>;
type Upcaster = (data: Payload) => Payload;

/**
 * Upcasters: upcasters[type][v] turns a stored version-v payload into version v + 1. Stored
 * events are never rewritten; readers apply these (`upcastEvent`) so an old history folds as
 * the current code reads it, meaning exactly what it meant when it was written.
 */
export const upcasters: { readonly [T in EventType]?: Readonly<Record<number, Upcaster>> } = {
  ExperimentCreated: {
    // v1: the window applied in every phase; searches used untrained nodes and one batch per evaluation.
    1: (d) => ({
      ...d,
      flopsWindowPhases: ['warmup', 'tree-building', 'mct-sampling'],
      search: { scope: 'any', updateDataFreq: 1, ...(d['search'] as Payload) },
    }),
  },
  ArchitectureSampled: {
    // v1 carried the full vectors: the chosen op's probability is read off them.
    1: (d) => {
      const probabilities = d['probabilities'] as number[][];
      const architecture = d['architecture'] as number[];
      return { ...d, chosenProbabilities: architecture.map((op, l) => probabilities[l]?.[op] ?? 0) };
    },
  },
  CheckpointSaved: {
    // v2 only added optional fields (store, verifiedAt): a v1 payload is a valid v2 one.
    1: (d) => d,
  },
  SearchStarted: {
    // v1 searches continued the previous search's tree (removals cleared) and used every node.
    1: (d) => ({ ...d, scope: 'any', tree: 'continued', updateDataFreq: 1 }),
    // v2 had no shortlist option: the authors' search.
    2: (d) => ({ ...d, shortlist: null }),
  },
  CandidateRemoved: {
    // v2 only added the reason 'shortlisted': a v1 payload is a valid v2 one.
    1: (d) => d,
  },
  ValidationBatchEvaluated: {
    // v1: one batch per evaluation, indexed by the evaluation.
    1: (d) => ({ ...d, batch: d['evaluation'] }),
  },
};

/**
 * A stored payload of `schemaVersion` as the current version reads it. Events of the current
 * version (and unknown types: the store rejects those on append) are returned unchanged.
 */
export function upcastEvent(type: string, schemaVersion: number, data: unknown): unknown {
  if (!isEventType(type)) return data;
  const current = eventCatalog[type].version;
  if (schemaVersion >= current) return data;
  const steps = upcasters[type];
  let out = data as Payload;
  for (let v = schemaVersion; v < current; v++) {
    const step = steps?.[v];
    if (!step) throw new DomainError('internal', 'UpcastError', `no upcaster for ${type} v${v} -> v${v + 1}`);
    out = step(out);
  }
  return out;
}

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(eventCatalog, type);
}

/**
 * Validates one event against the catalogue; returns the parsed payload or throws an
 * `InvalidEventError` naming the field (`type`, or `data.<path>`). Unprocessable (422): the
 * domain built the event from values it cannot record (e.g. a reward sum overflowing to
 * Infinity after an absurd loss).
 */
export function validateEvent(type: string, data: unknown): DomainEvent {
  if (!isEventType(type)) throw new DomainError('unprocessable', 'InvalidEventError', `unknown event type '${type}'`, 'type');
  const result = eventCatalog[type].schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new DomainError('unprocessable', 'InvalidEventError', `invalid ${type} event: ${issue.message}`, issueField(issue, 'data'));
  }
  return { type, data: result.data } as DomainEvent;
}

/** Event metadata recorded with every stored event. */
export interface EventMetadata {
  readonly experimentId: string;
  readonly step?: number | null;
  readonly workerId?: string | null;
  readonly host?: string | null;
  readonly codeVersion?: string | null;
  /** position of the event this one answers */
  readonly causationId?: number | null;
  readonly [extra: string]: unknown;
}
