import type { AppConfig } from '../config.js';
import { ExperimentStateError } from '../experiments/errors.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import { runSearchOnExperiment } from '../experiments/search-runner.js';
import type { StrategyName } from '../search/config.js';
import { createSupernetTrainer } from '../training/off-thread-trainer.js';
import { restoreNewestCheckpoint, TrainingWorker } from '../training/training-worker.js';
import { requireTree } from '../tree/state.js';
import { checkpointStoreFor, printOutcome, workerIdFor } from './jobs.js';

/**
 * Another search (e.g. the random or evolutionary baseline) on the supernet of a trained
 * experiment: its final checkpoint is loaded and the search is recorded in the same stream.
 */
export async function searchJob(
  service: ExperimentService,
  config: AppConfig,
  experimentId: string,
  options: { strategy?: StrategyName; candidates?: number; searchId?: string },
): Promise<void> {
  const view = await service.projections.current(experimentId);
  const trainer = await createSupernetTrainer(requireTree(view.tree).config.experiment, (line) => console.error(line));
  try {
    const checkpoints = checkpointStoreFor(config);
    const { checkpoint } = await restoreNewestCheckpoint(trainer, checkpoints, view.status.retainedCheckpoints);
    if (!checkpoint || checkpoint.step !== view.tree.lastRewardedStep) {
      throw new ExperimentStateError(`experiment '${experimentId}' has no verified checkpoint of its last trained step: train it to the end first (mctnas train ${experimentId})`);
    }
    const worker = new TrainingWorker(service, trainer, { workerId: workerIdFor(config), checkpoints, checkpointEvery: 1 });
    const lease = await worker.acquire(experimentId);
    try {
      const outcome = await runSearchOnExperiment(service, experimentId, { leaseId: lease.leaseId, evaluator: trainer.evaluator(), ...options });
      console.log(`${outcome.strategy} search ${outcome.searchId}: ${outcome.evaluated.length} candidates, ${outcome.validationBatchEvaluations} validation batches`);
    } finally {
      await worker.stop(experimentId);
    }
    await printOutcome(service, experimentId, null);
  } finally {
    await trainer.dispose();
  }
}
