/**
 * `mctnas worker` and `mctnas workers`: the pool (src/pool/worker-pool.ts) wired to the two
 * trainers of this service — the TensorFlow.js supernet for dataset experiments (weights in the
 * checkpoint directory, which every worker must be able to read: a shared mount) and the
 * tabular oracle for `dataset.kind: 'tabular'` experiments (no weights).
 */
import { gracefulStop } from './graceful-stop.js';
import { hostname } from 'node:os';
import type { AppConfig } from '../config.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import { activeLease } from '../experiments/experiment-status.js';
import { type ExperimentRunner, runWorker } from '../pool/worker-pool.js';
import { searchConfigOf } from '../search/config.js';
import { runOracleExperiment } from '../tabular/oracle-experiment.js';
import { nasBenchMacroPath } from '../tabular/paths.js';
import { type AccuracyTable, loadNasBenchMacro } from '../tabular/table.js';
import { runExperiment } from '../training/run-experiment.js';
import { createSupernetTrainer } from '../training/off-thread-trainer.js';
import { checkpointStoreFor } from './jobs.js';

export interface WorkerCommandOptions {
  readonly workerId?: string;
  readonly leaseTtlMs: number;
  readonly pollMs: number;
  readonly exitWhenIdle: boolean;
  readonly checkpointEvery: number;
}

/** Unique per process unless given: two processes with one id would share a lease. */
export function poolWorkerId(config: AppConfig, given?: string): string {
  return given ?? (config.workerId ? `${config.workerId}:${process.pid}` : `${hostname()}:${process.pid}`);
}

export async function workerCommand(service: ExperimentService, config: AppConfig, options: WorkerCommandOptions): Promise<string[]> {
  const stop = gracefulStop('stopping after the current step...');
  let table: AccuracyTable | null = null;
  const runner: ExperimentRunner = async (experimentId, experiment, { workerId, leaseTtlMs, signal }) => {
    if ((experiment.dataset as { kind?: string }).kind === 'tabular') {
      table ??= loadNasBenchMacro(nasBenchMacroPath());
      const search = searchConfigOf(experiment);
      await runOracleExperiment(service, table, experimentId, [{ strategy: search.strategy, candidates: search.candidates }], { workerId, leaseTtlMs, signal });
      return;
    }
    const result = await runExperiment(service, experimentId, (created) => createSupernetTrainer(created, (line) => console.error(line)), {
      workerId,
      leaseTtlMs,
      signal,
      checkpoints: checkpointStoreFor(config),
      checkpointEvery: options.checkpointEvery,
      retention: config.checkpointRetention,
    });
    if (result.lifecycle !== 'completed' && !signal.aborted) throw new Error(`experiment ${experimentId} stopped: ${result.lifecycle}`);
  };
  const workerId = poolWorkerId(config, options.workerId);
  console.log(`worker ${workerId} polling for runnable experiments`);
  try {
    return await runWorker(service, runner, {
      workerId,
      leaseTtlMs: options.leaseTtlMs,
      pollMs: options.pollMs,
      exitWhenIdle: options.exitWhenIdle,
      signal: stop.signal,
      log: (message, fields) => console.log(`${message} ${JSON.stringify(fields ?? {})}`),
    });
  } finally {
    stop.release();
  }
}

/** Who runs what: every experiment with a lease in force, and its progress. */
export async function workersTable(service: ExperimentService): Promise<{ experimentId: string; name: string; workerId: string; expiresAt: string; lifecycle: string; step: number }[]> {
  const now = new Date();
  const rows = [];
  for (const { id, name } of await service.list()) {
    const view = await service.projections.current(id);
    const lease = activeLease(view.status, now);
    if (!lease) continue;
    rows.push({ experimentId: id, name, workerId: lease.workerId, expiresAt: lease.expiresAt, lifecycle: view.status.lifecycle, step: view.tree.lastRewardedStep + 1 });
  }
  return rows;
}
