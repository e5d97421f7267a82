/**
 * The tree projection's state: everything `evolve` derives from an experiment's events.
 *
 * Value contract: a `TreeState` is immutable once handed out. `evolve` returns a new state and
 * never mutates its input; `fold` and `TreeProjector` (evolve.ts) mutate only a store they own.
 * The state is lean: per-node reward histories are *not* kept (the audit trail is read from
 * the event store).
 */
import { DomainError } from '../kernel/domain-error.js';
import type { Architecture } from '../search-space/definition.js';
import type { SearchScope, Shortlist, TreeEventData } from './events.js';
import type { FlopsWindow, WindowPhase } from './flops-window.js';
import type { Hyperparameters } from './hyperparameters.js';
import type { Phase, Schedule } from './schedule.js';
import type { TreeStore } from './store.js';

/** Experiment settings the tree needs, taken from `ExperimentCreated`. */
export interface TreeConfig {
  /** the ExperimentCreated payload as recorded (shared, never mutated) */
  readonly experiment: TreeEventData<'ExperimentCreated'>;
  readonly opCounts: readonly number[];
  readonly hyperparameters: Hyperparameters;
  readonly schedule: Schedule;
  readonly flopsWindow: FlopsWindow | null;
  /** the training phases the window applies to */
  readonly flopsWindowPhases: readonly WindowPhase[];
  readonly seed: number;
}

/** Progress of the current (most recent) search, from the search events. */
export interface SearchProgress {
  readonly searchId: string;
  /** the strategy's name (src/search lists them; the tree only records it) */
  readonly strategy: string;
  readonly candidates: number;
  readonly topK: number;
  readonly referenceLoss: number;
  readonly flopsWindow: FlopsWindow | null;
  readonly scope: SearchScope;
  readonly updateDataFreq: number;
  readonly shortlist: Shortlist | null;
  /** ValidationBatchEvaluated events so far */
  readonly validationBatchEvaluations: number;
  /** CandidateEvaluated events so far */
  readonly evaluated: number;
  /** CandidateRemoved events so far (any reason) */
  readonly removals: number;
  readonly completed: boolean;
  readonly best: { readonly architecture: Architecture; readonly top1: number } | null;
}

export interface TreeState {
  /** null until ExperimentCreated has been applied */
  readonly config: TreeConfig | null;
  /** the nodes, G table and removal flags; null until ExperimentCreated */
  readonly tree: TreeStore | null;
  /** global position of the last applied event (0 = none, or unknown positions) */
  readonly position: number;
  /** stream version of the last applied event when the events carried one (0 = none) */
  readonly streamVersion: number;
  /** number of events applied */
  readonly eventCount: number;
  /** phase from the last PhaseChanged (null before the first) */
  readonly phase: Phase | null;
  /** highest training step seen (-1 = none) */
  readonly step: number;
  /** the last ArchitectureSampled (step and path) */
  readonly lastSampled: { readonly step: number; readonly architecture: Architecture } | null;
  /** step of the last RewardRecorded (-1 = none) */
  readonly lastRewardedStep: number;
  /** moving-average training loss Ltilde after the last RewardRecorded (0 before tree building) */
  readonly movingAverageLoss: number;
  readonly search: SearchProgress | null;
  /**
   * The tree as training left it, kept from the first SearchStarted on so that every search
   * can start from it (SearchStarted 'as-trained'); null before any search. Not in snapshots:
   * states holding it are not snapshotted (experiment-projections.ts).
   */
  readonly trainedTree: TreeStore | null;
}

/** The state before any event. */
export function initialTreeState(): TreeState {
  return Object.freeze({
    config: null,
    tree: null,
    position: 0,
    streamVersion: 0,
    eventCount: 0,
    phase: null,
    step: -1,
    lastSampled: null,
    lastRewardedStep: -1,
    movingAverageLoss: 0,
    search: null,
    trainedTree: null,
  });
}

/** An event cannot be applied (wrong order, out-of-range path, missing config): a broken history. */
export function projectionError(eventType: string, message: string): DomainError {
  return new DomainError('internal', 'ProjectionError', `cannot apply ${eventType}: ${message}`);
}

/** The config and tree of a state, or a clear error when ExperimentCreated is missing. */
export function requireTree(state: TreeState): { config: TreeConfig; tree: TreeStore } {
  if (!state.config || !state.tree) throw projectionError('(query)', 'the experiment has not been created (no ExperimentCreated applied)');
  return { config: state.config, tree: state.tree };
}

export function configFromExperiment(data: TreeEventData<'ExperimentCreated'>): TreeConfig {
  return {
    experiment: data,
    opCounts: data.searchSpace.layers.map((layer) => layer.ops.length),
    hyperparameters: data.hyperparameters,
    schedule: data.schedule,
    flopsWindow: data.flopsWindow,
    flopsWindowPhases: data.flopsWindowPhases,
    seed: data.seed,
  };
}

/** Node visits, reward sum and mean reward. Qbar = S / n, 0 when n = 0. */
export function meanReward(n: number, s: number): number {
  return n > 0 ? s / n : 0;
}

/**
 * A canonical plain form of a state (nodes keyed by path, sorted), for deep equality in tests
 * and for debugging. Independent of node creation order.
 */
export function toPlain(state: TreeState): {
  config: TreeConfig | null;
  position: number;
  streamVersion: number;
  eventCount: number;
  phase: Phase | null;
  step: number;
  lastSampled: { step: number; architecture: number[] } | null;
  lastRewardedStep: number;
  movingAverageLoss: number;
  search: SearchProgress | null;
  nodes: { path: string; n: number; s: number; removed: boolean }[];
  g: number[][];
} {
  const tree = state.tree;
  const nodes: { path: string; n: number; s: number; removed: boolean }[] = [];
  const g: number[][] = [];
  if (tree) {
    for (let id = 0; id < tree.size; id++) {
      nodes.push({ path: tree.pathOf(id).join('.'), n: tree.n[id]!, s: tree.s[id]!, removed: tree.removed[id] === 1 });
    }
    nodes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (let l = 0; l < tree.numLayers; l++) g.push(Array.from(tree.g.subarray(tree.gOffsets[l]!, tree.gOffsets[l + 1]!)));
  }
  return {
    config: state.config,
    position: state.position,
    streamVersion: state.streamVersion,
    eventCount: state.eventCount,
    phase: state.phase,
    step: state.step,
    lastSampled: state.lastSampled ? { step: state.lastSampled.step, architecture: [...state.lastSampled.architecture] } : null,
    lastRewardedStep: state.lastRewardedStep,
    movingAverageLoss: state.movingAverageLoss,
    search: state.search,
    nodes,
    g,
  };
}
