/**
 * The training schedule: step -> phase. Steps are 0-based; the phases are consecutive ranges
 *   warm-up        [0, w)
 *   tree building  [w, w + b)
 *   MCT sampling   [w + b, w + b + m)
 * and a step at or after w + b + m is past training (null). An empty range is skipped.
 */
import { z } from 'zod';

const nonNegativeInt = z.number().int().nonnegative();

/** Steps are the unit; epochs are for people. Phase boundaries are step indices. */
export const scheduleSchema = z.object({
  stepsPerEpoch: z.number().int().positive(),
  warmupSteps: nonNegativeInt,
  treeBuildingSteps: nonNegativeInt,
  mctSteps: nonNegativeInt,
});
export type Schedule = z.infer<typeof scheduleSchema>;

const trainingPhases = ['warmup', 'tree-building', 'mct-sampling'] as const;
export type TrainingPhase = (typeof trainingPhases)[number];

/** The experiment's phases: the three training phases, then the search, then done. */
export const phaseSchema = z.enum([...trainingPhases, 'search', 'done']);
export type Phase = z.infer<typeof phaseSchema>;

export function totalTrainingSteps(schedule: Schedule): number {
  return schedule.warmupSteps + schedule.treeBuildingSteps + schedule.mctSteps;
}

/** First step of each phase (and the end of training). */
export function phaseBoundaries(schedule: Schedule): { treeBuilding: number; mctSampling: number; end: number } {
  const treeBuilding = schedule.warmupSteps;
  const mctSampling = treeBuilding + schedule.treeBuildingSteps;
  return { treeBuilding, mctSampling, end: mctSampling + schedule.mctSteps };
}

/** The training phase of `step`, or null once training is over. */
export function trainingPhaseAt(schedule: Schedule, step: number): TrainingPhase | null {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be a non-negative integer, got ${step}`);
  const b = phaseBoundaries(schedule);
  if (step < b.treeBuilding) return 'warmup';
  if (step < b.mctSampling) return 'tree-building';
  if (step < b.end) return 'mct-sampling';
  return null;
}

/** Whether rewards of this phase update the tree (tree building and MCT sampling). */
export function phaseUpdatesTree(phase: TrainingPhase): boolean {
  return phase !== 'warmup';
}

/** Schedule from epochs (the presets speak in epochs; the events in steps). */
export function scheduleFromEpochs(e: {
  stepsPerEpoch: number;
  warmupEpochs: number;
  treeBuildingEpochs: number;
  mctEpochs: number;
}): Schedule {
  for (const [k, v] of Object.entries(e)) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${k} must be a non-negative integer, got ${v}`);
  }
  if (e.stepsPerEpoch < 1) throw new RangeError('stepsPerEpoch must be positive');
  return {
    stepsPerEpoch: e.stepsPerEpoch,
    warmupSteps: e.warmupEpochs * e.stepsPerEpoch,
    treeBuildingSteps: e.treeBuildingEpochs * e.stepsPerEpoch,
    mctSteps: e.mctEpochs * e.stepsPerEpoch,
  };
}
