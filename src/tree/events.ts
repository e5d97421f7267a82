/**
 * The events the tree folds (`evolve`), as zod schemas with their payload types: the core
 * defines the language it is written in. The event catalogue (src/events/catalog.ts) builds
 * its stored-event schemas from these, narrowing the two values the tree records without
 * interpreting them (the search strategy's name and the experiment's search settings, which
 * belong to src/search), and checks at compile time that every catalogue event of these types
 * is a `TreeEvent`. Pure: zod and core value types only.
 */
import { z } from 'zod';
import { anySpaceDefinitionSchema, architectureSchema } from '../search-space/definition.js';
import { flopsWindowPhasesSchema, flopsWindowSchema } from './flops-window.js';
import { hyperparametersSchema } from './hyperparameters.js';
import { phaseSchema, scheduleSchema } from './schedule.js';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const positiveFinite = finite.refine((v) => v > 0, { message: 'must be positive' });
const nonNegativeInt = z.number().int().nonnegative();
const probability = z.number().min(0).max(1);
const searchId = z.string().min(1);

/** Which tree nodes a search may use (see searchStartedSchema.scope). */
export const searchScopeSchema = z.enum(['trained', 'any']);
export type SearchScope = z.infer<typeof searchScopeSchema>;

/**
 * The shortlist option of the hierarchical search (off by default, null): propose `factor` x K
 * candidates, score each on the same `batches` validation batches, fully evaluate the K with the
 * lowest mean loss.
 */
export const shortlistSchema = z.object({ factor: z.number().int().min(2).max(20), batches: z.number().int().min(1).max(256) }).strict();
export type Shortlist = z.infer<typeof shortlistSchema>;

export const samplerSchema = z.enum(['uniform', 'uniform-flops', 'mct', 'replay', 'external']);

export const experimentCreatedSchema = z.object({
  name: z.string().min(1).max(200),
  searchSpace: anySpaceDefinitionSchema,
  hyperparameters: hyperparametersSchema,
  schedule: scheduleSchema,
  flopsWindow: flopsWindowSchema.nullable(),
  /** the training phases the window applies to (v2; v1 events applied it in every phase) */
  flopsWindowPhases: flopsWindowPhasesSchema,
  dataset: z.object({ kind: z.string().min(1) }).catchall(z.unknown()),
  /** trainer settings (optimizer, batch size, widths); free-form per trainer kind */
  training: z.record(z.string(), z.unknown()),
  /** the search settings: recorded by the tree, read by src/search (`searchConfigOf`) */
  search: z.unknown(),
  seed: z.number().int().nonnegative().max(2 ** 32 - 1),
});

export const phaseChangedSchema = z.object({ step: nonNegativeInt, from: phaseSchema.nullable(), to: phaseSchema });

export const architectureSampledSchema = z.object({
  step: nonNegativeInt,
  architecture: architectureSchema,
  phase: phaseSchema,
  sampler: samplerSchema,
  /**
   * per layer, the probability of each op at the moment it was drawn; null in compact events
   * (v2: the vectors are a pure function of the tree as of the previous step, recomputed on
   * demand; v1 events carry them)
   */
  probabilities: z.array(z.array(probability)).nullable(),
  /** per layer, the probability of the op that was drawn (what the audit needs) */
  chosenProbabilities: z.array(probability),
  flops: z.number().nonnegative(),
  redraws: nonNegativeInt,
});

export const rewardRecordedSchema = z.object({
  step: nonNegativeInt,
  architecture: architectureSchema,
  loss: positiveFinite,
  movingAverageLoss: finite,
  reward: finite,
});

export const visitCountsUpdatedSchema = z.object({
  /** training step, or the search evaluation that caused it */
  step: nonNegativeInt,
  source: z.enum(['training', 'search']),
  nodes: z.array(
    z.object({
      /** op indices from the root; [] is the root */
      path: z.array(nonNegativeInt),
      n: nonNegativeInt,
      s: finite,
    }),
  ),
  g: z.array(z.object({ layer: nonNegativeInt, op: nonNegativeInt, value: finite })),
});

export const searchStartedSchema = z.object({
  searchId,
  /** the strategy's name: recorded by the tree, listed by src/search (`strategyNameSchema`) */
  strategy: z.string().min(1),
  candidates: z.number().int().positive(),
  topK: z.number().int().positive(),
  /** frozen moving-average training loss used as the validation reward reference */
  referenceLoss: finite,
  flopsWindow: flopsWindowSchema.nullable(),
  /**
   * which tree nodes the search may use: 'trained' (the authors: only nodes training created,
   * a parent is pruned when its existing children are gone) or 'any' (a never-created child
   * counts as present); v1 events mean 'any'
   */
  scope: searchScopeSchema,
  /** the tree the search starts from: 'as-trained' (v2) or 'continued' (v1: the previous search's backups kept, removals cleared) */
  tree: z.enum(['as-trained', 'continued']),
  /** consecutive validation-batch evaluations that share one batch (batch = floor(evaluation / updateDataFreq)) */
  updateDataFreq: z.number().int().positive(),
  /** the shortlist option (v3); null: off, the authors' search (v1 and v2 events) */
  shortlist: shortlistSchema.nullable(),
});

export const validationBatchEvaluatedSchema = z.object({
  searchId,
  evaluation: nonNegativeInt,
  /** the validation batch used (v1 events: the evaluation index, one batch each) */
  batch: nonNegativeInt,
  architecture: architectureSchema,
  loss: positiveFinite,
  reward: finite,
});

export const candidateRemovedSchema = z.object({
  searchId,
  architecture: architectureSchema,
  /** 'shortlisted' (v2): proposed for the shortlist option's scoring, never proposed again */
  reason: z.enum(['flops-window', 'evaluated', 'exhausted', 'shortlisted']),
});

export const candidateEvaluatedSchema = z.object({
  searchId,
  candidate: nonNegativeInt,
  architecture: architectureSchema,
  top1: z.number().min(0).max(100),
  top5: z.number().min(0).max(100).nullable(),
  loss: finite,
  flops: z.number().nonnegative(),
  params: z.number().nonnegative(),
});

export const searchCompletedSchema = z.object({
  searchId,
  best: z.object({ architecture: architectureSchema, top1: z.number() }),
  top: z.array(z.object({ architecture: architectureSchema, top1: z.number() })),
  validationBatchEvaluations: nonNegativeInt,
});

/** Every event type the tree folds, with its payload schema. */
export const treeEventSchemas = {
  ExperimentCreated: experimentCreatedSchema,
  PhaseChanged: phaseChangedSchema,
  ArchitectureSampled: architectureSampledSchema,
  RewardRecorded: rewardRecordedSchema,
  VisitCountsUpdated: visitCountsUpdatedSchema,
  SearchStarted: searchStartedSchema,
  ValidationBatchEvaluated: validationBatchEvaluatedSchema,
  CandidateRemoved: candidateRemovedSchema,
  CandidateEvaluated: candidateEvaluatedSchema,
  SearchCompleted: searchCompletedSchema,
} as const;

export type TreeEventType = keyof typeof treeEventSchemas;
export type TreeEventData<T extends TreeEventType> = z.infer<(typeof treeEventSchemas)[T]>;
/** An event the tree folds: the discriminated union over `treeEventSchemas`. */
export type TreeEvent = { [T in TreeEventType]: { readonly type: T; readonly data: TreeEventData<T> } }[TreeEventType];

/** An event of another context (leases, checkpoints, lifecycle): counted, otherwise ignored. */
export interface ForeignEvent {
  readonly type: string;
  readonly data: unknown;
}

/** Where a stored event stands: its global position and its version in the stream. */
export interface EventPosition {
  readonly position?: number;
  readonly streamVersion?: number;
}

/** Any event with, when it was read from a store, its position. */
export type ProjectableEvent = (TreeEvent | ForeignEvent) & EventPosition;

/**
 * Whether the tree folds `event`, by its type. The payload is taken as the type says: stored
 * events were validated by the catalogue, whose schemas for these types are the ones above.
 */
export function isTreeEvent<E extends { readonly type: string }>(event: E): event is E & TreeEvent {
  return Object.hasOwn(treeEventSchemas, event.type);
}
