/**
 * One ablation supernet: created as an ordinary experiment (real event store, sampler, tree,
 * checkpoints), trained by the real TrainingWorker on the TensorFlow.js supernet; then its
 * ranking analysis against the stand-alone table (every table architecture evaluated the way
 * the search evaluates a candidate: BatchNorm recalibrated on training batches, the whole
 * validation split), recorded as RankingAnalysisRecorded; optionally, a real search on it
 * (the experiment's strategy, K candidates), recorded as the usual search events.
 *
 * Resumable and idempotent: the experiment id is fixed by the caller, so a second call finds
 * the experiment, resumes training from its newest verified checkpoint (or restores the final
 * one), finds the analysis recorded (nothing evaluated again) and replays the recorded search
 * (nothing evaluated again, nothing appended).
 */
import type { CheckpointStore } from '../checkpoints/checkpoint-store.js';
import type { CreateExperimentRequest } from '../experiments/experiment-request.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import type { RankingAnalysis } from '../experiments/experiment-status.js';
import { analyseRanking, type StandaloneTable } from '../experiments/ranking-runner.js';
import { runSearchOnExperiment } from '../experiments/search-runner.js';
import type { SearchOutcome } from '../search/outcome.js';
import { createSupernetTrainer } from '../training/off-thread-trainer.js';
import { TrainingWorker, type TrainingProgress } from '../training/training-worker.js';
import { requireTree } from '../tree/state.js';

export interface SupernetRanking {
  readonly experimentId: string;
  readonly analysis: RankingAnalysis;
  /** the search run on the supernet, when asked for */
  readonly search: SearchOutcome | null;
  readonly trainingSteps: number;
  readonly seconds: { readonly training: number; readonly ranking: number; readonly search: number };
}

export interface SupernetRankingOptions {
  readonly experimentId: string;
  readonly workerId: string;
  /** where the supernet's checkpoints go */
  readonly checkpoints: CheckpointStore;
  readonly checkpointEvery?: number;
  /** the training lease's time to live (default the worker's 30 s) */
  readonly leaseTtlMs?: number;
  /** BatchNorm recalibration batches and validation images, as recorded with the analysis */
  readonly evaluation: { readonly bnRecalibrationBatches: number; readonly validationImages: number };
  /** run (or replay) a search of this many candidates with this id after the analysis */
  readonly search?: { readonly searchId: string; readonly candidates: number };
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TrainingProgress) => void;
  readonly onEvaluated?: (done: number, total: number) => void;
  readonly onCandidate?: (done: number, total: number) => void;
  readonly log?: (line: string) => void;
}

async function ensureExperiment(service: ExperimentService, request: CreateExperimentRequest, id: string): Promise<void> {
  const view = await service.projections.current(id).catch(() => null);
  if (view?.tree) return;
  await service.create(request, { id });
}

/** Trains (or resumes) the supernet of `request`, records its ranking of `table` and runs the search; null when stopped early. */
export async function supernetRanking(
  service: ExperimentService,
  request: CreateExperimentRequest,
  table: StandaloneTable,
  options: SupernetRankingOptions,
): Promise<SupernetRanking | null> {
  const id = options.experimentId;
  await ensureExperiment(service, request, id);
  const { config } = requireTree((await service.projections.current(id)).tree);
  const trainer = await createSupernetTrainer(config.experiment, options.log);
  const worker = new TrainingWorker(service, trainer, {
    workerId: options.workerId,
    checkpoints: options.checkpoints,
    checkpointEvery: options.checkpointEvery ?? 50,
    leaseTtlMs: options.leaseTtlMs,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  try {
    let started = performance.now();
    const training = await worker.train(id);
    if (training.status !== 'finished') return null;
    const trainingSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const analysis = await analyseRanking(service, id, {
      analysisId: table.name,
      table,
      evaluator: trainer.evaluator(),
      evaluation: options.evaluation,
      workerId: options.workerId,
      signal: options.signal,
      onEvaluated: options.onEvaluated,
    });
    if (!analysis) return null;
    const rankingSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    let search: SearchOutcome | null = null;
    if (options.search) {
      const lease = await worker.acquire(id);
      try {
        let done = 0;
        const evaluator = trainer.evaluator();
        search = await runSearchOnExperiment(service, id, {
          leaseId: lease.leaseId,
          searchId: options.search.searchId,
          candidates: options.search.candidates,
          signal: options.signal,
          evaluator: {
            validationBatchLoss: (a, b) => evaluator.validationBatchLoss(a, b),
            fullValidation: async (a, c) => {
              const result = await evaluator.fullValidation(a, c);
              options.onCandidate?.(++done, options.search!.candidates);
              return result;
            },
          },
        });
      } finally {
        await worker.stop(id);
      }
      if (options.signal?.aborted) return null;
    }
    return {
      experimentId: id,
      analysis,
      search,
      trainingSteps: training.lastStep + 1,
      seconds: { training: trainingSeconds, ranking: rankingSeconds, search: (performance.now() - started) / 1000 },
    };
  } finally {
    await trainer.dispose();
  }
}
