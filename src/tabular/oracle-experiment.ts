/**
 * One tabular experiment end to end, through the same commands, projection and search code as
 * a real run: create the experiment, hold its lease, train every step with the oracle through
 * ExperimentService.ask/tell (sampling from the projected tree, rewards into the stream), then
 * run the requested searches through `runSearchOnExperiment`, and complete it.
 *
 * Resumable: the oracle's settings are recorded in ExperimentCreated (`training`), the oracle is
 * stateless, asking again returns a pending sample, and the searches are named `search-<i>`, so
 * running an interrupted experiment again continues where it stopped and a finished search is
 * replayed, not repeated.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { EventData } from '../events/catalog.js';
import type { SearchScope, Shortlist, TreeEventData } from '../tree/events.js';
import type { FlopsWindow } from '../tree/flops-window.js';
import type { Hyperparameters } from '../tree/hyperparameters.js';
import type { Schedule } from '../tree/schedule.js';
import type { StreamStore } from '../events/stream-store.js';
import type { CreateExperimentRequest } from '../experiments/experiment-request.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import { HeldLease } from '../experiments/held-lease.js';
import { runSearchOnExperiment } from '../experiments/search-runner.js';
import type { StrategyName } from '../search/config.js';
import type { CandidateEvaluator } from '../search/evaluator.js';
import type { SearchOutcome } from '../search/outcome.js';
import type { TrainingProgress } from '../training/training-worker.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { requireTree, type TreeState } from '../tree/state.js';
import { kendallTau } from '../analysis/rank-correlation.js';
import { defaultProxyModel, OracleTrainer, type ProxyModel, proxyModelSchema } from './oracle.js';
import type { AccuracyTable } from './table.js';

/** CIFAR-10 as the authors train it: batch 256 over 50,000 images, 50 epochs (warm-up 25, tree building 5, MCT sampling 20). */
const CIFAR_STEPS_PER_EPOCH = 196;
export const AUTHORS_CIFAR_SCHEDULE: Schedule = Object.freeze({
  stepsPerEpoch: CIFAR_STEPS_PER_EPOCH,
  warmupSteps: 25 * CIFAR_STEPS_PER_EPOCH,
  treeBuildingSteps: 5 * CIFAR_STEPS_PER_EPOCH,
  mctSteps: 20 * CIFAR_STEPS_PER_EPOCH,
});

export interface OracleExperimentOptions {
  readonly schedule: Schedule;
  readonly seed: number;
  readonly name?: string;
  /** the experiment id (default: a random one) */
  readonly id?: string;
  readonly flopsWindow?: FlopsWindow | null;
  readonly hyperparameters?: Partial<Hyperparameters>;
  readonly proxy?: Partial<ProxyModel>;
  /** the experiment's default search */
  readonly search?: { readonly strategy?: StrategyName; readonly candidates?: number; readonly topK?: number };
}

export interface SearchRequest {
  readonly strategy: StrategyName;
  readonly candidates: number;
  /** hierarchical search options (default: the experiment's, the authors') */
  readonly scope?: SearchScope;
  readonly updateDataFreq?: number;
  readonly shortlist?: Shortlist | null;
}

export interface OracleRunHooks {
  readonly workerId?: string;
  readonly leaseTtlMs?: number;
  readonly signal?: AbortSignal;
  readonly onStep?: (progress: TrainingProgress) => void;
  /** after each full evaluation: candidates evaluated so far in the current search */
  readonly onCandidate?: (progress: { readonly strategy: StrategyName; readonly evaluated: number; readonly candidates: number }) => void;
}

export interface OracleRun {
  readonly experimentId: string;
  readonly oracle: OracleTrainer;
  readonly trainingSteps: number;
  /** the tree as training left it (before any search touched it) */
  readonly trainedTree: TreeState;
  /** Kendall tau-b of the trained tree's mean rewards against the ground truth, over visited leaves */
  readonly treeKendallTau: { readonly tau: number; readonly leaves: number };
  readonly searches: readonly SearchOutcome[];
}

/** The creation request of an oracle experiment on `table`. */
export function oracleExperimentRequest(table: AccuracyTable, options: OracleExperimentOptions): CreateExperimentRequest {
  const proxy = { ...defaultProxyModel(table), ...options.proxy };
  return {
    name: options.name ?? `${table.name} oracle, seed ${options.seed}`,
    searchSpace: table.spaceRequest,
    schedule: options.schedule,
    flopsWindow: options.flopsWindow ?? null,
    ...(options.hyperparameters && { hyperparameters: options.hyperparameters }),
    dataset: { kind: 'tabular', benchmark: table.name, architectures: table.size },
    training: { kind: 'oracle', ...proxy },
    // The oracle has no BatchNorm statistics to re-estimate.
    search: { ...options.search, bnRecalibrationBatches: 0 },
    seed: options.seed,
  };
}

export async function createOracleExperiment(
  service: ExperimentService<StreamStore>,
  table: AccuracyTable,
  options: OracleExperimentOptions,
): Promise<string> {
  return (await service.create(oracleExperimentRequest(table, options), { id: options.id })).id;
}

/** The oracle an experiment was created with (its recorded seed and proxy model). */
export function oracleFor(table: AccuracyTable, created: TreeEventData<'ExperimentCreated'>): OracleTrainer {
  const { kind: datasetKind, benchmark } = created.dataset as { kind: string; benchmark?: unknown };
  const { kind, ...proxy } = created.training as { kind?: unknown };
  if (datasetKind !== 'tabular' || kind !== 'oracle') throw new Error(`experiment '${created.name}' is not a tabular oracle experiment`);
  if (benchmark !== table.name) throw new Error(`experiment '${created.name}' was created on table '${String(benchmark)}', not '${table.name}'`);
  const opCounts = created.searchSpace.layers.map((layer) => layer.ops.length);
  if (opCounts.join('x') !== table.space.opCounts.join('x')) {
    throw new Error(`experiment '${created.name}' has a ${opCounts.join('x')} space, table '${table.name}' a ${table.space.opCounts.join('x')} one`);
  }
  return new OracleTrainer(table, created.seed, proxyModelSchema.parse(proxy));
}

/** Trains (or finishes training) experiment `experimentId` with the oracle, then runs `searches` in order. */
export async function runOracleExperiment(
  service: ExperimentService<StreamStore>,
  table: AccuracyTable,
  experimentId: string,
  searches: readonly SearchRequest[],
  hooks: OracleRunHooks = {},
): Promise<OracleRun> {
  const created = requireTree((await service.projections.current(experimentId)).tree).config.experiment;
  const oracle = oracleFor(table, created);
  const ttl = hooks.leaseTtlMs ?? 30_000;
  const lease = await HeldLease.acquire(service, experimentId, hooks.workerId ?? 'tabular-oracle', ttl);
  const checkLease = () => lease.check();
  try {
    // Recorded like a real trainer's backend, so the audit trail says the losses came from a table.
    await service.append(experimentId, [
      { type: 'TrainingBackendSelected', data: oracle.backend, idempotencyKey: `backend:${lease.leaseId}`, metadata: { workerId: lease.workerId } },
    ]);
    const trainingSteps = totalTrainingSteps(created.schedule);
    const started = Date.now();
    let live = 0;
    // Each step's reward and the next step's sample are committed together (tellAndAsk).
    let sample = await service.ask(experimentId, lease.leaseId);
    while (sample) {
      // PGlite and the in-memory store settle their promises without going through the event
      // loop: without this, heartbeats and Ctrl-C would wait for the end of training.
      await yieldToEventLoop();
      hooks.signal?.throwIfAborted();
      checkLease();
      const loss = await oracle.trainStep(sample.step, sample.architecture);
      const told = await service.tellAndAsk(experimentId, lease.leaseId, sample.step, loss);
      live += 1;
      hooks.onStep?.({ step: sample.step, totalSteps: trainingSteps, phase: sample.phase, loss, stepsPerSecond: live / Math.max(1e-3, (Date.now() - started) / 1000) });
      sample = told.next;
    }
    const trainedTree = await treeAfterTraining(service, experimentId);
    const outcomes: SearchOutcome[] = [];
    for (const [i, request] of searches.entries()) {
      checkLease();
      outcomes.push(
        await runSearchOnExperiment(service, experimentId, {
          leaseId: lease.leaseId,
          evaluator: reporting(oracle.evaluator(), (evaluated) => hooks.onCandidate?.({ strategy: request.strategy, evaluated, candidates: request.candidates })),
          strategy: request.strategy,
          candidates: request.candidates,
          scope: request.scope,
          updateDataFreq: request.updateDataFreq,
          shortlist: request.shortlist,
          searchId: `search-${i + 1}`,
          signal: hooks.signal,
        }),
      );
    }
    await lease.release();
    await service.complete(experimentId, trainingSteps);
    return { experimentId, oracle, trainingSteps, trainedTree, treeKendallTau: treeKendallTau(trainedTree, table), searches: outcomes };
  } finally {
    // After a failure or an interruption: free the experiment for the next run (a no-op once released).
    await lease.release().catch(() => undefined);
  }
}

/** Kendall tau-b of mean reward (S / n) against ground truth over the leaves with n > 0. */
export function treeKendallTau(state: TreeState, table: AccuracyTable): { tau: number; leaves: number } {
  const { tree } = requireTree(state);
  const qbar: number[] = [];
  const truth: number[] = [];
  for (let id = 0; id < tree.size; id++) {
    if (tree.depth[id] !== tree.numLayers || !(tree.n[id]! > 0)) continue;
    qbar.push(tree.s[id]! / tree.n[id]!);
    truth.push(table.truth(tree.pathOf(id)));
  }
  return { tau: kendallTau(qbar, truth), leaves: qbar.length };
}

/** The tree just before the search phase began (the current tree while there is none). */
async function treeAfterTraining(service: ExperimentService<StreamStore>, experimentId: string): Promise<TreeState> {
  const phases = await service.store.readStream(experimentId, { types: ['PhaseChanged'] });
  const search = phases.find((e) => e.type === 'PhaseChanged' && e.data.to === 'search');
  return search ? (await service.projections.at(experimentId, search.position - 1)).tree : (await service.projections.current(experimentId)).tree;
}

function reporting(evaluator: CandidateEvaluator, onEvaluated: (evaluated: number) => void): CandidateEvaluator {
  return {
    validationBatchLoss: (architecture, evaluation) => evaluator.validationBatchLoss(architecture, evaluation),
    fullValidation: async (architecture, candidate) => {
      const result = await evaluator.fullValidation(architecture, candidate);
      onEvaluated(candidate + 1);
      return result;
    },
  };
}
