/**
 * The three supernet training policies of the paper's ablation, as schedules of one step
 * budget: uniform sampling only, MCT only (tree building from step 0, no uniform warm-up), and
 * uniform warm-up followed by tree building and MCT sampling (the default schedule, split like
 * the demo preset and the authors' CIFAR schedule: 50% / 10% / 40%).
 */
import type { CreateExperimentRequest } from '../experiments/experiment-request.js';
import type { Schedule } from '../tree/schedule.js';

export const ablationPolicies = ['uniform', 'mct', 'uniform+mct'] as const;
export type AblationPolicy = (typeof ablationPolicies)[number];

/** The schedule of `policy` with `steps` training steps in all. */
export function policySchedule(policy: AblationPolicy, steps: number, stepsPerEpoch: number): Schedule {
  if (!Number.isInteger(steps) || steps < 10) throw new RangeError(`steps must be an integer >= 10, got ${steps}`);
  const treeBuilding = Math.round(steps / 10);
  switch (policy) {
    case 'uniform':
      return { stepsPerEpoch, warmupSteps: steps, treeBuildingSteps: 0, mctSteps: 0 };
    case 'mct':
      return { stepsPerEpoch, warmupSteps: 0, treeBuildingSteps: treeBuilding, mctSteps: steps - treeBuilding };
    case 'uniform+mct': {
      const warmup = Math.round(steps / 2);
      return { stepsPerEpoch, warmupSteps: warmup, treeBuildingSteps: treeBuilding, mctSteps: steps - warmup - treeBuilding };
    }
  }
}

export interface AblationRequestOptions {
  readonly policy: AblationPolicy;
  readonly steps: number;
  readonly seed: number;
  /** the stand-alone table's validation split (seed and size), so both are measured on the same images */
  readonly validationSplitSeed: number;
  readonly validationPerClass: number;
  readonly bnRecalibrationBatches: number;
}

/** The creation request of one ablation supernet: `base` (a preset) with the policy's schedule. */
export function ablationRequest(base: CreateExperimentRequest, o: AblationRequestOptions): CreateExperimentRequest {
  const stepsPerEpoch = 'stepsPerEpoch' in base.schedule ? base.schedule.stepsPerEpoch : 100;
  return {
    ...base,
    name: `ablation: ${o.policy}, ${o.steps} steps, seed ${o.seed}`,
    schedule: policySchedule(o.policy, o.steps, stepsPerEpoch),
    training: { ...base.training, validationPerClass: o.validationPerClass, validationSplitSeed: o.validationSplitSeed },
    search: { ...base.search, bnRecalibrationBatches: o.bnRecalibrationBatches },
    seed: o.seed,
  };
}
