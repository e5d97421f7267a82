/**
 * The run timeline as the dashboard draws it: per-step training loss, moving-average loss L̃
 * and reward Q (bucketed to a bounded number of points, so 150k steps stay one small answer),
 * the phase bands and checkpoints, the per-layer sampling probabilities over time, and every
 * recorded fact of one step. A port (adapter: src/adapters/sql/timeline-read-model.ts): every
 * answer is bounded by the stream position it states, so it agrees with the tree view served beside it.
 */
export interface StepRange {
  /** first step (inclusive) */
  readonly fromStep: number;
  /** last step (inclusive) */
  readonly toStep: number;
  /** most points to return; consecutive steps are averaged into buckets above it */
  readonly points: number;
}

export interface TimelineSeries {
  /** steps per point (1 = every step) */
  readonly bucket: number;
  /** first step of each bucket */
  readonly step: number[];
  /** bucket means */
  readonly loss: number[];
  readonly movingAverageLoss: number[];
  readonly reward: number[];
  /** bucket extremes of the loss (equal to `loss` when bucket = 1) */
  readonly lossMin: number[];
  readonly lossMax: number[];
}

export interface PhaseBand {
  readonly phase: string;
  readonly fromStep: number;
  /** step the next phase started at; null while it lasts */
  readonly toStep: number | null;
  readonly position: number;
}

export interface CheckpointMark {
  readonly step: number;
  readonly position: number;
  readonly sha256: string;
}

export interface ProbabilityFrames {
  /** steps apart between frames */
  readonly stride: number;
  readonly step: number[];
  /** per frame: per layer, per op, the sampling probability when that step was drawn */
  readonly probabilities: number[][][];
}

export interface StepRecord {
  readonly step: number;
  readonly phase: string;
  readonly architecture: number[];
  readonly sampler: unknown;
  readonly probabilities: number[][];
  readonly flops: number;
  readonly redraws: number;
  readonly sampledAt: number;
  readonly worker: string | null;
  /** null while the step is sampled but not yet rewarded */
  readonly reward: { readonly loss: number; readonly movingAverageLoss: number; readonly reward: number; readonly position: number } | null;
  /** tree nodes and G entries the step's reward changed */
  readonly visits: { readonly nodes: unknown[]; readonly g: unknown[]; readonly position: number } | null;
  /** the newest checkpoint saved at or before this step */
  readonly checkpoint: { readonly step: number; readonly sha256: string; readonly position: number } | null;
}

/** Steps per bucket so that `range` gives at most `points` buckets. */
export function bucketSize(range: StepRange): number {
  const steps = Math.max(0, range.toStep - range.fromStep + 1);
  return Math.max(1, Math.ceil(steps / Math.max(1, range.points)));
}

export abstract class TimelineReadModel {
  /** Loss, L̃ and Q per step in `range`, averaged into at most `range.points` buckets. */
  abstract series(streamId: string, position: number, range: StepRange): Promise<TimelineSeries>;
  /** Phase bands (from PhaseChanged) and checkpoints (CheckpointSaved) up to `position`. */
  abstract marks(streamId: string, position: number): Promise<{ phases: PhaseBand[]; checkpoints: CheckpointMark[] }>;
  /** The sampling probabilities (layer x op) of every `stride`-th sampled step in `range`. */
  abstract probabilityFrames(streamId: string, position: number, range: StepRange): Promise<ProbabilityFrames>;
  /** Everything recorded about one training step up to `position`; null when it was never sampled. */
  abstract step(streamId: string, position: number, step: number): Promise<StepRecord | null>;
}
