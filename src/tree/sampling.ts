/**
 * Training-time path sampling: a pure function of (state, space, step). All randomness comes
 * from `rngFor(seed, step, purpose)`, so a resumed run draws what the uninterrupted run drew.
 *
 * Phases (DESIGN §2): warm-up and tree building sample uniformly; MCT sampling draws each
 * layer's op from softmax(U / tau) while descending the tree.
 *
 * FLOPs window: it applies in the phases `flopsWindowPhases` lists (ExperimentCreated; default
 * the paper's tree building and MCT sampling: warm-up draws are unconstrained uniform; v1
 * experiments applied it in every phase). Uniform phases use rejection sampling ('uniform-flops'):
 * whole uniform paths are redrawn up to `maxRedraws` times. MCT sampling redraws the whole
 * tree path up to `maxRedraws` times (1 + maxRedraws draws in total). Training a shared
 * supernet on paths the search can never pick would only spend capacity on them.
 *
 * If nothing fits after 1 + maxRedraws draws, the sample falls back to a uniform-in-window
 * draw: first 1 + maxRedraws more uniform whole paths (exactly uniform over the window when
 * one fits), then a feasibility-constrained uniform descent that uses the per-layer FLOPs
 * bounds (space-model.ts) and is re-checked with the real FLOPs. The event records it: the
 * sampler is 'uniform-flops' even in the MCT phase, the probabilities are those of the draw
 * that produced the path, and `redraws` counts every rejected path — so `redraws > maxRedraws`
 * means the fallback ran. Only a window that no path of the space can reach throws.
 */
import { DomainError } from '../kernel/domain-error.js';
import { rngFor, type Rng } from '../random/counter-rng.js';
import type { Architecture } from '../search-space/definition.js';
import type { TreeEventData } from './events.js';
import { inWindow, type FlopsWindow, type WindowPhase } from './flops-window.js';
import type { Hyperparameters } from './hyperparameters.js';
import { drawIndex, trainingProbabilities, type TrainingPolicy } from './policy.js';
import { type Phase, type Schedule, trainingPhaseAt } from './schedule.js';
import { checkSpaceMatches, drawConstrainedPath, drawUniformPath, flopsWindowError, type SpaceModel, uniformProbabilities } from './space-model.js';
import { requireTree, type TreeState } from './state.js';
import type { TreeStore } from './store.js';

/** RNG purposes of training-time sampling (part of the determinism contract: never rename). */
export const SAMPLING_PURPOSE = {
  uniform: 'train:sample:uniform',
  mct: 'train:sample:mct',
} as const;

export type SampledPath = {
  architecture: number[];
  probabilities: number[][];
  flops: number;
  redraws: number;
  sampler: 'uniform' | 'uniform-flops' | 'mct';
};

/** Overrides for what-if analyses; normally everything comes from ExperimentCreated. */
export interface SamplingOverrides {
  readonly hyperparameters?: Partial<Hyperparameters>;
  readonly schedule?: Schedule;
  readonly flopsWindow?: FlopsWindow | null;
  readonly flopsWindowPhases?: readonly WindowPhase[];
}

/** An ArchitectureSampled payload with the full per-layer probabilities (what the sampler drew from). */
export type FullSample = TreeEventData<'ArchitectureSampled'> & { readonly probabilities: number[][] };

/** The payload as stored: the chosen op's probability per layer only (full vectors: null). */
export function compactSample(sample: TreeEventData<'ArchitectureSampled'>): TreeEventData<'ArchitectureSampled'> {
  return { ...sample, probabilities: null };
}

/**
 * The ArchitectureSampled payload for training step `step`.
 * In the MCT phase the tree must hold the rewards of every earlier step
 * (`state.lastRewardedStep === step - 1`), otherwise the draw would depend on timing.
 */
export function sampleArchitecture(
  state: TreeState,
  space: SpaceModel,
  step: number,
  overrides: SamplingOverrides = {},
): FullSample {
  const { config, tree } = requireTree(state);
  checkSpaceMatches(space, config.opCounts);
  const hp = { ...config.hyperparameters, ...overrides.hyperparameters };
  const schedule = overrides.schedule ?? config.schedule;
  const phase = trainingPhaseAt(schedule, step);
  if (phase === null) throw new RangeError(`step ${step} is past the end of training`);
  const phases = overrides.flopsWindowPhases ?? config.flopsWindowPhases;
  const window = phases.includes(phase) ? (overrides.flopsWindow !== undefined ? overrides.flopsWindow : config.flopsWindow) : null;
  let path: SampledPath;
  if (phase === 'mct-sampling') {
    if (state.lastRewardedStep !== step - 1) {
      throw new DomainError(
        'conflict',
        'SamplingNotReadyError',
        `MCT sampling of step ${step} needs the rewards of all earlier steps; the tree has them up to step ${state.lastRewardedStep}`,
      );
    }
    path = sampleMctPath(tree, space, rngFor(config.seed, step, SAMPLING_PURPOSE.mct), hp, window);
  } else {
    path = sampleUniformInWindow(space, rngFor(config.seed, step, SAMPLING_PURPOSE.uniform), window, hp.maxRedraws);
  }
  return {
    step,
    architecture: path.architecture,
    phase,
    sampler: path.sampler,
    probabilities: path.probabilities,
    chosenProbabilities: path.architecture.map((op, l) => path.probabilities[l]![op]!),
    flops: path.flops,
    redraws: path.redraws,
  };
}

/**
 * The PhaseChanged payload to append before step `step`'s sample, or null when the state is
 * already in that phase. Past the end of training it returns null (the search is started by
 * the orchestrator, which appends PhaseChanged to 'search' itself).
 */
export function phaseChangeAt(state: TreeState, step: number, schedule?: Schedule): TreeEventData<'PhaseChanged'> | null {
  const sched = schedule ?? state.config?.schedule;
  if (!sched) throw new RangeError('no schedule: the experiment has not been created');
  const phase: Phase | null = trainingPhaseAt(sched, step);
  if (phase === null || phase === state.phase) return null;
  return { step, from: state.phase, to: phase };
}

/**
 * Uniform path, or with a window: rejection sampling (1 + maxRedraws draws) and the fallback
 * described at the top of this file. `rejectedBefore` counts paths rejected by an earlier
 * sampler (the MCT draws) so `redraws` reports the total.
 */
export function sampleUniformInWindow(
  space: SpaceModel,
  rng: Rng,
  window: FlopsWindow | null,
  maxRedraws: number,
  rejectedBefore = 0,
): SampledPath {
  if (!window) {
    const architecture = drawUniformPath(space, rng);
    return { architecture, probabilities: uniformProbabilities(space), flops: space.flops(architecture), redraws: rejectedBefore, sampler: 'uniform' };
  }
  let rejected = rejectedBefore;
  for (let attempt = 0; attempt <= maxRedraws; attempt++) {
    const architecture = drawUniformPath(space, rng);
    const flops = space.flops(architecture);
    if (inWindow(flops, window)) {
      return { architecture, probabilities: uniformProbabilities(space), flops, redraws: rejected, sampler: 'uniform-flops' };
    }
    rejected++;
  }
  for (let attempt = 0; attempt <= maxRedraws; attempt++) {
    const drawn = drawConstrainedPath(space, rng, window);
    if (!drawn) throw flopsWindowError(`no architecture of the space can have FLOPs in [${window.min}, ${window.max}]`);
    const flops = space.flops(drawn.architecture);
    if (inWindow(flops, window)) return { ...drawn, flops, redraws: rejected, sampler: 'uniform-flops' };
    rejected++;
  }
  throw flopsWindowError(`found no architecture with FLOPs in [${window.min}, ${window.max}] after ${rejected} draws`);
}

/**
 * MCT path: descend from the root drawing each op from softmax(U / tau) of the current node's
 * children. Whole-path redraws (up to maxRedraws) to fit the window; then the uniform-in-window
 * fallback.
 */
export function sampleMctPath(
  tree: TreeStore,
  space: SpaceModel,
  rng: Rng,
  policy: TrainingPolicy & { readonly maxRedraws: number },
  window: FlopsWindow | null,
): SampledPath {
  const cache = new Map<number, number[]>();
  const probsAt = (id: number, depth: number): number[] => {
    // Never-created nodes at the same depth score alike (n_p = 0, children empty): key by depth.
    const key = id >= 0 ? id : -1 - depth;
    let p = cache.get(key);
    if (!p) {
      p = trainingProbabilities(tree, id, depth, policy);
      cache.set(key, p);
    }
    return p;
  };
  const maxAttempts = window ? policy.maxRedraws + 1 : 1;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const architecture = new Array<number>(tree.numLayers);
    const probabilities = new Array<number[]>(tree.numLayers);
    let id = 0;
    for (let l = 0; l < tree.numLayers; l++) {
      const p = probsAt(id, l);
      const op = drawIndex(p, rng.next());
      architecture[l] = op;
      probabilities[l] = p.slice();
      id = tree.child(id, op);
    }
    const flops = space.flops(architecture);
    if (inWindow(flops, window)) return { architecture, probabilities, flops, redraws: attempt, sampler: 'mct' };
  }
  return sampleUniformInWindow(space, rng, window, policy.maxRedraws, maxAttempts);
}

/**
 * Per-layer training probabilities along a given path (the distribution each op was drawn
 * from when descending that path), and the path's total probability.
 */
export function mctPathProbabilities(
  tree: TreeStore,
  architecture: Architecture,
  policy: TrainingPolicy,
): { probabilities: number[][]; pathProbability: number } {
  const probabilities: number[][] = [];
  let id = 0;
  let pathProbability = 1;
  for (let l = 0; l < tree.numLayers; l++) {
    const p = trainingProbabilities(tree, id, l, policy);
    probabilities.push(p);
    pathProbability *= p[architecture[l]!]!;
    id = tree.child(id, architecture[l]!);
  }
  return { probabilities, pathProbability };
}
