import type { ExperimentService } from '../experiments/experiment-service.js';
import { runSearchOnExperiment } from '../experiments/search-runner.js';
import type { StrategyName } from '../search/config.js';
import type { SearchOutcome } from '../search/outcome.js';
import type { TreeEventData } from '../tree/events.js';
import { requireTree } from '../tree/state.js';
import type { StepTrainer } from './step-trainer.js';
import { type TrainingOutcome, TrainingWorker, type WorkerOptions } from './training-worker.js';

/** Builds the trainer an experiment needs (supernet, data, backend) from its recorded settings. */
export type TrainerFactory = (experiment: TreeEventData<'ExperimentCreated'>) => Promise<StepTrainer>;

export interface RunResult {
  readonly training: TrainingOutcome | null;
  readonly search: SearchOutcome | null;
  /** the experiment's lifecycle afterwards */
  readonly lifecycle: string;
}

/**
 * Drives one experiment to its result: trains (resuming from the stream and the newest valid
 * checkpoint), runs (or resumes) the search on the trained supernet, then completes it. Every
 * stage picks up where the events say the previous run stopped, so calling it again after a
 * crash continues the same experiment.
 */
export async function runExperiment(
  service: ExperimentService,
  experimentId: string,
  createTrainer: TrainerFactory,
  options: WorkerOptions & { readonly strategy?: StrategyName; readonly candidates?: number },
): Promise<RunResult> {
  const view = await service.projections.current(experimentId);
  if (view.status.lifecycle === 'completed' || view.status.lifecycle === 'failed') {
    return { training: null, search: null, lifecycle: view.status.lifecycle };
  }
  const { config } = requireTree(view.tree);
  const trainer = await createTrainer(config.experiment);
  try {
    const worker = new TrainingWorker(service, trainer, options);
    const training = await worker.train(experimentId);
    if (training.status !== 'finished') return { training, search: null, lifecycle: training.status };
    const lease = await worker.acquire(experimentId);
    try {
      // A search that completed before a crash is replayed (nothing appended), not run again.
      const completed = (await service.projections.current(experimentId)).status.completedSearch;
      const search = await runSearchOnExperiment(service, experimentId, {
        leaseId: lease.leaseId,
        searchId: completed?.searchId,
        evaluator: trainer.evaluator(),
        strategy: options.strategy,
        candidates: options.candidates,
        signal: options.signal,
      });
      await service.complete(experimentId, training.lastStep);
      return { training, search, lifecycle: 'completed' };
    } finally {
      await worker.stop(experimentId);
    }
  } finally {
    await trainer.dispose();
  }
}
