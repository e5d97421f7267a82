import { gracefulStop } from './graceful-stop.js';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalDirectoryCheckpointStore } from '../adapters/filesystem/checkpoint-store.js';
import type { RetentionPolicy } from '../checkpoints/retention.js';
import type { AppConfig } from '../config.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import type { StrategyName } from '../search/config.js';
import { SearchSpace } from '../search-space/search-space.js';
import { runExperiment, type RunResult } from '../training/run-experiment.js';
import { createSupernetTrainer } from '../training/off-thread-trainer.js';
import { requireTree } from '../tree/state.js';
import { trainingProgressBar } from './progress.js';

export interface TrainJobOptions {
  readonly checkpointEvery?: number;
  readonly retention?: RetentionPolicy;
  readonly maxLiveSteps?: number;
  readonly strategy?: StrategyName;
  readonly candidates?: number;
  readonly progress?: boolean;
}

/**
 * A worker id stable across restarts of the same installation, so a restarted process (after a
 * crash or kill -9) reclaims its own lease at once instead of waiting for it to expire.
 */
export function workerIdFor(config: AppConfig): string {
  return config.workerId ?? `${hostname()}:${resolve(config.dataDir)}`;
}

/** The checkpoint store of this installation: `$MCTNAS_DATA_DIR/checkpoints`, locations relative to it. */
export function checkpointStoreFor(config: AppConfig): LocalDirectoryCheckpointStore {
  return new LocalDirectoryCheckpointStore(join(config.dataDir, 'checkpoints'));
}

/**
 * Trains an experiment with the TensorFlow.js supernet, searches and completes it; Ctrl-C (or
 * SIGTERM) stops after the current step with the lease released. Prints the outcome.
 */
export async function trainJob(service: ExperimentService, config: AppConfig, experimentId: string, options: TrainJobOptions = {}): Promise<RunResult> {
  const stop = gracefulStop('\nstopping after the current step (press Ctrl-C again to stop at once)...');
  const bar = options.progress === false ? null : trainingProgressBar();
  try {
    const result = await runExperiment(service, experimentId, (experiment) => createSupernetTrainer(experiment, (line) => console.error(line)), {
      workerId: workerIdFor(config),
      checkpoints: checkpointStoreFor(config),
      checkpointEvery: options.checkpointEvery ?? 50,
      retention: options.retention ?? config.checkpointRetention,
      log: (message, fields) => {
        if (/failed|unavailable|rejected/.test(message)) console.error(`${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
      },
      maxLiveSteps: options.maxLiveSteps,
      strategy: options.strategy,
      candidates: options.candidates,
      signal: stop.signal,
      onProgress: bar ? (p) => bar.update(p) : undefined,
    });
    bar?.stop();
    await printOutcome(service, experimentId, result);
    return result;
  } finally {
    bar?.stop();
    stop.release();
  }
}

export async function printOutcome(service: ExperimentService, experimentId: string, result: RunResult | null): Promise<void> {
  const view = await service.projections.current(experimentId);
  const space = SearchSpace.fromDefinition(requireTree(view.tree).config.experiment.searchSpace);
  console.log(`experiment ${experimentId}: ${view.status.lifecycle} (stream position ${view.position})`);
  if (result?.training) {
    const r = result.training.resume;
    console.log(
      `training: ${result.training.liveSteps} live steps, last step ${result.training.lastStep}; resumed from checkpoint step ${r.checkpointStep}, replayed ${r.replayedSteps} steps (${r.replayMismatches} loss mismatches)`,
    );
  }
  const searched = view.status.completedSearch;
  if (!searched) {
    if (view.status.lifecycle !== 'completed') console.log(`not finished: run it again to resume (npm start, or mctnas train ${experimentId})`);
    return;
  }
  const best = searched.best.architecture;
  console.log(`chosen architecture: ${space.encode(best)}  (${space.describe(best)})`);
  console.log(`validation top-1: ${searched.best.top1.toFixed(2)}%  FLOPs ${(space.flops(best) / 1e6).toFixed(2)}M  params ${(space.params(best) / 1e6).toFixed(3)}M`);
  console.log(`top ${searched.top.length}: ${searched.top.map((c) => `${space.encode(c.architecture)} ${c.top1.toFixed(2)}%`).join(', ')}`);
}
