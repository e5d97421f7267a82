/** Shared fixtures for the tree and search tests: tiny spaces, experiments, simulated runs. */
import type { EventData } from '../../src/events/catalog.js';
import type { FlopsWindow, WindowPhase } from '../../src/tree/flops-window.js';
import type { Hyperparameters } from '../../src/tree/hyperparameters.js';
import type { Schedule } from '../../src/tree/schedule.js';
import { uniformAt } from '../../src/random/counter-rng.js';
import type { Architecture } from '../../src/search-space/definition.js';
import { TreeProjector } from '../../src/tree/evolve.js';
import type { EventPosition, TreeEvent } from '../../src/tree/events.js';
import { decideReward } from '../../src/tree/reward.js';
import { phaseChangeAt, sampleArchitecture } from '../../src/tree/sampling.js';
import type { SpaceModel } from '../../src/tree/space-model.js';
import type { TreeState } from '../../src/tree/state.js';

export const AUTHORS: Hyperparameters = { beta: 0.96, gamma: 0.96, c1: 0.1, c2: 0.2, tau: 0.0025, nThreshold: 6, maxRedraws: 100 };

/**
 * A space with additive FLOPs: flops(a) = 1000 + sum_l table[l][a_l]
 * (default table[l][op] = 10 * op + l), params = 10 * flops.
 */
export function tinySpace(opCounts: readonly number[], table?: readonly (readonly number[])[]): SpaceModel {
  const t = table ?? opCounts.map((c, l) => Array.from({ length: c }, (_, op) => 10 * op + l));
  const flops = (a: Architecture) => {
    let f = 1000;
    for (let l = 0; l < a.length; l++) f += t[l]![a[l]!]!;
    return f;
  };
  return { numLayers: opCounts.length, opCounts: [...opCounts], flops, params: (a) => 10 * flops(a) };
}

export function experiment(
  opCounts: readonly number[],
  options: {
    hp?: Partial<Hyperparameters>;
    schedule?: Schedule;
    flopsWindow?: FlopsWindow | null;
    flopsWindowPhases?: WindowPhase[];
    seed?: number;
    candidates?: number;
    topK?: number;
    scope?: 'trained' | 'any';
    updateDataFreq?: number;
    searchWindow?: FlopsWindow | null;
  } = {},
): EventData<'ExperimentCreated'> {
  return {
    name: 'test',
    searchSpace: {
      name: 'tiny',
      input: { size: 8, channels: 3 },
      stem: { channels: 8, kernel: 3, stride: 1 },
      layers: opCounts.map((c) => ({
        channels: 8,
        stride: 1 as const,
        ops: Array.from({ length: c }, (_, i) =>
          i === 0 ? { type: 'identity' as const } : { type: 'mbconv' as const, kernel: 3, expansion: i, se: false },
        ),
      })),
      head: { channels: 16, classes: 10 },
    },
    hyperparameters: { ...AUTHORS, ...options.hp },
    schedule: options.schedule ?? { stepsPerEpoch: 1, warmupSteps: 1, treeBuildingSteps: 2, mctSteps: 2 },
    flopsWindow: options.flopsWindow ?? null,
    flopsWindowPhases: options.flopsWindowPhases ?? ['tree-building', 'mct-sampling'],
    dataset: { kind: 'synthetic' },
    training: {},
    search: {
      strategy: 'hierarchical',
      candidates: options.candidates ?? 3,
      topK: options.topK ?? 10,
      bnRecalibrationBatches: 0,
      scope: options.scope ?? 'trained',
      updateDataFreq: options.updateDataFreq ?? 1000,
      ...(options.searchWindow !== undefined ? { flopsWindow: options.searchWindow } : {}),
    },
    seed: options.seed ?? 7,
  };
}

/** A deterministic synthetic training loss: op-dependent quality plus per-step noise. */
export function syntheticLoss(seed: number) {
  return (arch: Architecture, step: number): number => {
    let q = 0;
    for (let l = 0; l < arch.length; l++) q += ((arch[l]! * 7 + l * 3) % 5) / 10;
    return 2.5 - q / arch.length + 0.3 * uniformAt(seed, step, 'test:loss', 0);
  };
}

/**
 * Runs the whole training decision loop through the projection, like the sampler and trainer
 * will: PhaseChanged, ArchitectureSampled, RewardRecorded, VisitCountsUpdated for every step.
 * Events carry positions (1, 2, ...) and stream versions.
 */
export function simulateTraining(
  space: SpaceModel,
  created: EventData<'ExperimentCreated'>,
  loss: (arch: Architecture, step: number) => number,
  steps?: number,
): { events: (TreeEvent & EventPosition)[]; state: TreeState; projector: TreeProjector } {
  const projector = new TreeProjector();
  const events: (TreeEvent & EventPosition)[] = [];
  const push = (e: TreeEvent) => {
    const stored = { ...e, position: events.length + 1, streamVersion: events.length + 1 };
    events.push(stored);
    projector.apply(stored);
  };
  push({ type: 'ExperimentCreated', data: created });
  const s = created.schedule;
  const total = steps ?? s.warmupSteps + s.treeBuildingSteps + s.mctSteps;
  for (let step = 0; step < total; step++) {
    const change = phaseChangeAt(projector.view(), step);
    if (change) push({ type: 'PhaseChanged', data: change });
    const sample = sampleArchitecture(projector.view(), space, step);
    push({ type: 'ArchitectureSampled', data: sample });
    const decision = decideReward(projector.view(), step, sample.architecture, loss(sample.architecture, step));
    for (const e of decision.events) push(e);
  }
  return { events, state: projector.state, projector };
}

/** Assert-friendly closeness. */
export function close(actual: number, expected: number, tol = 1e-12): boolean {
  return Math.abs(actual - expected) <= tol;
}
