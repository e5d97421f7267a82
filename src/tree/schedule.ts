/**
 * The training schedule: step -> phase. Steps are 0-based; the phases are consecutive ranges
 *   warm-up        [0, w)
 *   tree building  [w, w + b)
 *   MCT sampling   [w + b, w + b + m)
 * and a step at or after w + b + m is past training (null). An empty range is skipped.
 */
import type { EventData, Phase, Schedule } from '../events/catalog.js';
import type { TreeState } from './state.js';

export type TrainingPhase = 'warmup' | 'tree-building' | 'mct-sampling';

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

/**
 * The PhaseChanged payload to append before step `step`'s sample, or null when the state is
 * already in that phase. Past the end of training it returns null (the search is started by
 * the orchestrator, which appends PhaseChanged to 'search' itself).
 */
export function phaseChangeAt(state: TreeState, step: number, schedule?: Schedule): EventData<'PhaseChanged'> | null {
  const sched = schedule ?? state.config?.schedule;
  if (!sched) throw new RangeError('no schedule: the experiment has not been created');
  const phase: Phase | null = trainingPhaseAt(sched, step);
  if (phase === null || phase === state.phase) return null;
  return { step, from: state.phase, to: phase };
}
