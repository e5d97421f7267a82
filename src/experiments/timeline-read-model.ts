/**
 * The run timeline as the dashboard draws it: per-step training loss, moving-average loss L̃
 * and reward Q (bucketed to a bounded number of points, so 150k steps stay one small answer),
 * the phase bands and checkpoints, the per-layer sampling probabilities over time, and every
 * recorded fact of one step. A read model over the events table: every query is bounded by the
 * stream position the answer states, so it agrees with the tree view served beside it.
 */
import type { SqlExecutor } from '../database/database.js';

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

const STEP = `(data->>'step')::bigint`;

const SERIES_SQL = `
SELECT ${STEP} / $5 AS bucket, min(${STEP}) AS step, count(*) AS points,
       avg((data->>'loss')::float8) AS loss, min((data->>'loss')::float8) AS loss_min, max((data->>'loss')::float8) AS loss_max,
       avg((data->>'movingAverageLoss')::float8) AS moving_average_loss, avg((data->>'reward')::float8) AS reward
  FROM events
 WHERE stream_id = $1 AND type = 'RewardRecorded' AND position <= $2 AND ${STEP} BETWEEN $3 AND $4
 GROUP BY 1 ORDER BY 1`;

const MARKS_SQL = `
SELECT type, data, position FROM events
 WHERE stream_id = $1 AND type IN ('PhaseChanged', 'CheckpointSaved') AND position <= $2
 ORDER BY stream_version`;

const FRAMES_SQL = `
SELECT ${STEP} AS step, data->'probabilities' AS probabilities FROM events
 WHERE stream_id = $1 AND type = 'ArchitectureSampled' AND position <= $2 AND ${STEP} BETWEEN $3 AND $4
   AND (${STEP} - $3) % $5 = 0
 ORDER BY ${STEP}`;

const STEP_SQL = `
SELECT type, data, position, metadata->>'workerId' AS worker FROM events
 WHERE stream_id = $1 AND idempotency_key = ANY($2::text[]) AND position <= $3`;

const CHECKPOINT_SQL = `
SELECT data, position FROM events
 WHERE stream_id = $1 AND type = 'CheckpointSaved' AND position <= $2 AND ${STEP} <= $3
 ORDER BY stream_version DESC LIMIT 1`;

const num = Number;
const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

/** Steps per bucket so that `range` gives at most `points` buckets. */
export function bucketSize(range: StepRange): number {
  const steps = Math.max(0, range.toStep - range.fromStep + 1);
  return Math.max(1, Math.ceil(steps / Math.max(1, range.points)));
}

export class TimelineReadModel {
  constructor(private readonly database: SqlExecutor) {}

  /** Loss, L̃ and Q per step in `range`, averaged into at most `range.points` buckets. */
  async series(streamId: string, position: number, range: StepRange): Promise<TimelineSeries> {
    const bucket = bucketSize(range);
    const rows = range.toStep < range.fromStep ? [] : await this.database.query(SERIES_SQL, [streamId, position, range.fromStep, range.toStep, bucket]);
    const series: TimelineSeries = { bucket, step: [], loss: [], movingAverageLoss: [], reward: [], lossMin: [], lossMax: [] };
    for (const row of rows) {
      series.step.push(num(row.step));
      series.loss.push(num(row.loss));
      series.lossMin.push(num(row.loss_min));
      series.lossMax.push(num(row.loss_max));
      series.movingAverageLoss.push(num(row.moving_average_loss));
      series.reward.push(num(row.reward));
    }
    return series;
  }

  /** Phase bands (from PhaseChanged) and checkpoints (CheckpointSaved) up to `position`. */
  async marks(streamId: string, position: number): Promise<{ phases: PhaseBand[]; checkpoints: CheckpointMark[] }> {
    const rows = await this.database.query(MARKS_SQL, [streamId, position]);
    const phases: PhaseBand[] = [];
    const checkpoints: CheckpointMark[] = [];
    for (const row of rows) {
      const data = json<{ step: number; to?: string; sha256?: string }>(row.data);
      if (row.type === 'PhaseChanged') {
        const previous = phases.pop();
        if (previous) phases.push({ ...previous, toStep: data.step });
        phases.push({ phase: String(data.to), fromStep: data.step, toStep: null, position: num(row.position) });
      } else {
        checkpoints.push({ step: data.step, position: num(row.position), sha256: String(data.sha256 ?? '') });
      }
    }
    return { phases, checkpoints };
  }

  /** The sampling probabilities (layer x op) of every `stride`-th sampled step in `range`. */
  async probabilityFrames(streamId: string, position: number, range: StepRange): Promise<ProbabilityFrames> {
    const stride = bucketSize(range);
    const rows = range.toStep < range.fromStep ? [] : await this.database.query(FRAMES_SQL, [streamId, position, range.fromStep, range.toStep, stride]);
    return { stride, step: rows.map((r) => num(r.step)), probabilities: rows.map((r) => json<number[][]>(r.probabilities)) };
  }

  /** Everything recorded about one training step up to `position`; null when it was never sampled. */
  async step(streamId: string, position: number, step: number): Promise<StepRecord | null> {
    const keys = ['sample', 'reward', 'visits'].map((k) => `step:${step}:${k}`);
    const rows = await this.database.query(STEP_SQL, [streamId, keys, position]);
    const byType = new Map(rows.map((r) => [String(r.type), r]));
    const sampled = byType.get('ArchitectureSampled');
    if (!sampled) return null;
    const sample = json<{ phase: string; architecture: number[]; sampler: unknown; probabilities: number[][]; flops: number; redraws: number }>(sampled.data);
    const reward = byType.get('RewardRecorded');
    const visits = byType.get('VisitCountsUpdated');
    const [checkpoint] = await this.database.query(CHECKPOINT_SQL, [streamId, position, step]);
    const rewardData = reward ? json<{ loss: number; movingAverageLoss: number; reward: number }>(reward.data) : null;
    const visitData = visits ? json<{ nodes: unknown[]; g: unknown[] }>(visits.data) : null;
    const checkpointData = checkpoint ? json<{ step: number; sha256: string }>(checkpoint.data) : null;
    return {
      step,
      phase: sample.phase,
      architecture: sample.architecture,
      sampler: sample.sampler,
      probabilities: sample.probabilities,
      flops: sample.flops,
      redraws: sample.redraws,
      sampledAt: num(sampled.position),
      worker: sampled.worker === null || sampled.worker === undefined ? null : String(sampled.worker),
      reward: rewardData && reward ? { loss: rewardData.loss, movingAverageLoss: rewardData.movingAverageLoss, reward: rewardData.reward, position: num(reward.position) } : null,
      visits: visitData && visits ? { nodes: visitData.nodes, g: visitData.g, position: num(visits.position) } : null,
      checkpoint: checkpointData && checkpoint ? { step: checkpointData.step, sha256: checkpointData.sha256, position: num(checkpoint.position) } : null,
    };
  }
}
