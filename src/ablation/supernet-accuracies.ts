/**
 * One ablation supernet: created as an ordinary experiment (real event store, sampler, tree,
 * checkpoints), trained by the real TrainingWorker on the TensorFlow.js supernet, then every
 * architecture of the stand-alone table evaluated on it the way the search evaluates a
 * candidate (BatchNorm recalibrated on training batches, the whole validation split).
 *
 * Resumable: the experiment id is fixed by the caller, so a second call finds the experiment,
 * resumes training from its newest verified checkpoint (or finds it finished) and evaluates.
 */
import type { CheckpointStore } from '../checkpoints/checkpoint-store.js';
import type { CreateExperimentRequest } from '../experiments/experiment-request.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import type { Architecture } from '../search-space/definition.js';
import { SupernetTrainer } from '../training/supernet-trainer.js';
import { TrainingWorker, type TrainingProgress } from '../training/training-worker.js';
import { requireTree } from '../tree/state.js';

export interface SupernetAccuracies {
  readonly experimentId: string;
  /** validation top-1 (percent) of each architecture, in the order given */
  readonly top1: number[];
  readonly trainingSteps: number;
  readonly trainingSeconds: number;
  readonly evaluationSeconds: number;
}

export interface SupernetAccuracyOptions {
  readonly experimentId: string;
  readonly workerId: string;
  /** where the supernet's checkpoints go */
  readonly checkpoints: CheckpointStore;
  readonly checkpointEvery?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TrainingProgress) => void;
  readonly onEvaluated?: (done: number, total: number) => void;
  readonly log?: (line: string) => void;
}

async function ensureExperiment(service: ExperimentService, request: CreateExperimentRequest, id: string): Promise<void> {
  const view = await service.projections.current(id).catch(() => null);
  if (view?.tree) return;
  await service.create(request, { id });
}

/** Trains (or resumes) the supernet of `request` and evaluates `architectures` on it; null when stopped early. */
export async function supernetAccuracies(
  service: ExperimentService,
  request: CreateExperimentRequest,
  architectures: readonly Architecture[],
  options: SupernetAccuracyOptions,
): Promise<SupernetAccuracies | null> {
  await ensureExperiment(service, request, options.experimentId);
  const { config } = requireTree((await service.projections.current(options.experimentId)).tree);
  const trainer = await SupernetTrainer.create(config.experiment, options.log);
  try {
    let started = performance.now();
    const worker = new TrainingWorker(service, trainer, {
      workerId: options.workerId,
      checkpoints: options.checkpoints,
      checkpointEvery: options.checkpointEvery ?? 50,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    const training = await worker.train(options.experimentId);
    if (training.status !== 'finished') return null;
    const trainingSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const evaluator = trainer.evaluator();
    const top1: number[] = [];
    for (const [i, arch] of architectures.entries()) {
      if (options.signal?.aborted) return null;
      top1.push((await evaluator.fullValidation(arch, i)).top1);
      options.onEvaluated?.(i + 1, architectures.length);
    }
    return { experimentId: options.experimentId, top1, trainingSteps: training.lastStep + 1, trainingSeconds, evaluationSeconds: (performance.now() - started) / 1000 };
  } finally {
    trainer.dispose();
  }
}
