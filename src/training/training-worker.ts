import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { firstValueFrom, takeWhile, toArray } from 'rxjs';
import type { EventData } from '../events/catalog.js';
import type { StoredEventOf } from '../events/stored-event.js';
import { ExperimentStateError } from '../experiments/errors.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import type { Lease } from '../experiments/experiment-status.js';
import { HeldLease } from '../experiments/held-lease.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { requireTree } from '../tree/state.js';
import { checkpointPath, readVerifiedCheckpoint, writeCheckpointFile } from './checkpoint-files.js';
import type { StepTrainer } from './step-trainer.js';

export interface TrainingProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly phase: string;
  readonly loss: number;
  readonly stepsPerSecond: number;
}

export interface WorkerOptions {
  readonly workerId: string;
  readonly checkpointDir: string;
  /** save weights every this many steps */
  readonly checkpointEvery: number;
  readonly leaseTtlMs?: number;
  /** stop (gracefully, lease released) after this many live steps; for tests and time-boxed runs */
  readonly maxLiveSteps?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TrainingProgress) => void;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface ResumeReport {
  /** step whose weights were loaded (-1: none, trained from initialization) */
  readonly checkpointStep: number;
  /** checkpoints skipped because their file was missing or its hash did not verify */
  readonly rejectedCheckpoints: readonly string[];
  /** already-rewarded steps re-trained from their recorded paths (nothing appended) */
  readonly replayedSteps: number;
  /** replayed steps whose loss differed from the recorded one (0 on deterministic backends) */
  readonly replayMismatches: number;
}

export interface TrainingOutcome {
  readonly resume: ResumeReport;
  readonly liveSteps: number;
  /** 'finished': all training steps are rewarded; 'stopped': maxLiveSteps/abort; 'paused' */
  readonly status: 'finished' | 'stopped' | 'paused';
  readonly lastStep: number;
}

/**
 * Loads the newest checkpoint whose file exists and whose sha256 matches the recorded one,
 * falling back to older ones; returns it (null: none usable) and why the others were rejected.
 */
export function restoreNewestCheckpoint(
  trainer: StepTrainer,
  checkpoints: readonly EventData<'CheckpointSaved'>[],
  log?: WorkerOptions['log'],
): { checkpoint: EventData<'CheckpointSaved'> | null; rejected: string[] } {
  const rejected: string[] = [];
  for (const candidate of [...checkpoints].reverse()) {
    const file = readVerifiedCheckpoint(candidate.location, candidate.sha256);
    if ('bytes' in file) {
      trainer.loadState(file.bytes);
      return { checkpoint: candidate, rejected };
    }
    rejected.push(file.problem);
    log?.('checkpoint rejected', { problem: file.problem });
  }
  return { checkpoint: null, rejected };
}

/**
 * Trains an experiment by consuming its event stream. The sampler (ExperimentService.ask)
 * appends step t's ArchitectureSampled; the worker's RxJS subscription over the gap-safe
 * reader receives it, trains step t on that path only, appends RewardRecorded +
 * VisitCountsUpdated (ExperimentService.tell, idempotent per step), checkpoints every N steps,
 * and asks for step t+1.
 *
 * Resume (DESIGN §4): load the newest checkpoint whose sha256 verifies (older ones on
 * mismatch), re-train the already-rewarded steps after it from their recorded paths without
 * appending, then train the sampled-but-unrewarded step and go live. Killing the process at
 * any instant leaves the history as if it had never stopped.
 */
export class TrainingWorker {
  private held: HeldLease | null = null;

  constructor(
    private readonly service: ExperimentService,
    private readonly trainer: StepTrainer,
    private readonly options: WorkerOptions,
  ) {}

  async train(experimentId: string): Promise<TrainingOutcome> {
    const lease = await this.acquire(experimentId);
    try {
      await this.service.append(experimentId, [
        { type: 'TrainingBackendSelected', data: { backend: this.trainer.backend.backend, skipped: [...this.trainer.backend.skipped] }, idempotencyKey: `backend:${lease.leaseId}`, metadata: { workerId: lease.workerId } },
      ]);
      const resume = await this.restore(experimentId);
      return { resume, ...(await this.trainLive(experimentId, lease)) };
    } finally {
      await this.stop(experimentId);
    }
  }

  /** Acquires the lease (or re-acquires this worker's own, e.g. after a crash) and keeps it alive. */
  async acquire(experimentId: string): Promise<Lease> {
    const ttl = this.options.leaseTtlMs ?? 30_000;
    this.held = await HeldLease.acquire(this.service, experimentId, this.options.workerId, ttl);
    return this.held.lease;
  }

  async stop(experimentId: string): Promise<void> {
    if (this.held) await this.held.release().catch(() => undefined);
    this.held = null;
  }

  get leaseId(): string {
    if (!this.held) throw new Error('the worker holds no lease');
    return this.held.leaseId;
  }

  private async restore(experimentId: string): Promise<ResumeReport> {
    const view = await this.service.projections.current(experimentId);
    const { checkpoint, rejected } = restoreNewestCheckpoint(this.trainer, view.status.checkpoints, this.options.log);
    const lastRewarded = view.tree.lastRewardedStep;
    const from = checkpoint ? checkpoint.step + 1 : 0;
    let replayed = 0;
    let mismatches = 0;
    if (from <= lastRewarded) {
      const history = await this.service.store.readStream(experimentId, {
        types: ['ArchitectureSampled', 'RewardRecorded'],
        afterPosition: checkpoint?.streamPosition ?? 0,
        toVersion: view.version,
      });
      const paths = new Map<number, number[]>();
      const losses = new Map<number, number>();
      for (const event of history) {
        if (event.type === 'ArchitectureSampled') paths.set(event.data.step, event.data.architecture);
        else if (event.type === 'RewardRecorded') losses.set(event.data.step, event.data.loss);
      }
      for (let step = from; step <= lastRewarded; step++) {
        const path = paths.get(step);
        if (!path) throw new Error(`experiment '${experimentId}': no recorded path for step ${step} to replay`);
        await yieldToEventLoop();
        this.assertLeaseHealthy();
        const loss = await this.trainer.trainStep(step, path);
        replayed += 1;
        if (loss !== losses.get(step)) mismatches += 1;
      }
    }
    const report = { checkpointStep: checkpoint?.step ?? -1, rejectedCheckpoints: rejected, replayedSteps: replayed, replayMismatches: mismatches };
    this.options.log?.('resumed', { ...report });
    return report;
  }

  private async trainLive(experimentId: string, lease: Lease): Promise<Omit<TrainingOutcome, 'resume'>> {
    const store = this.service.store;
    const before = await this.service.projections.current(experimentId);
    const { config } = requireTree(before.tree);
    const totalSteps = totalTrainingSteps(config.schedule);
    let lastStep = before.tree.lastRewardedStep;
    let liveSteps = 0;
    let status: TrainingOutcome['status'] = 'finished';

    // Subscribe from just before the pending sample (if one was appended before a crash) or
    // from the head; then ask for the first step. Each handled step asks for the next.
    const pending = before.tree.lastSampled?.step === lastStep + 1 ? before.tree.lastSampled.step : null;
    const from = pending !== null ? await this.checkpointBeforeSample(experimentId, pending) : await store.headCheckpoint();
    const started = Date.now();
    const askNext = async (): Promise<boolean> => {
      if (this.options.signal?.aborted || (this.options.maxLiveSteps !== undefined && liveSteps >= this.options.maxLiveSteps)) {
        status = 'stopped';
        return false;
      }
      try {
        return (await this.service.ask(experimentId, lease.leaseId)) !== null;
      } catch (error) {
        if (error instanceof ExperimentStateError && /paused/.test(error.message)) {
          status = 'paused';
          return false;
        }
        throw error;
      }
    };
    if (pending === null && !(await askNext())) return { status, liveSteps, lastStep };

    await firstValueFrom(
      store
        .subscribe<boolean>(from, {
          filter: { streamId: experimentId, types: ['ArchitectureSampled'] },
          pollIntervalMs: 500,
          handle: async (event) => {
            const sampled = event as StoredEventOf<'ArchitectureSampled'>;
            const step = sampled.data.step;
            if (step <= lastStep) return true; // delivered again after a reconnect: already trained
            // PGlite answers without a macrotask turn: yield so heartbeats and signals run.
            await yieldToEventLoop();
            this.assertLeaseHealthy();
            const loss = await this.trainer.trainStep(step, sampled.data.architecture);
            const told = await this.service.tell(experimentId, lease.leaseId, step, loss);
            lastStep = step;
            liveSteps += 1;
            if ((step + 1) % this.options.checkpointEvery === 0 || step + 1 === totalSteps) {
              await this.saveCheckpoint(experimentId, lease, step, config.schedule.stepsPerEpoch, told.position);
            }
            this.options.onProgress?.({ step, totalSteps, phase: sampled.data.phase, loss, stepsPerSecond: liveSteps / ((Date.now() - started) / 1000) });
            return askNext();
          },
        })
        .pipe(takeWhile((more) => more), toArray()),
    );
    return { status, liveSteps, lastStep };
  }

  private async saveCheckpoint(experimentId: string, lease: Lease, step: number, stepsPerEpoch: number, streamPosition: number): Promise<void> {
    const written = writeCheckpointFile(checkpointPath(this.options.checkpointDir, experimentId, step), this.trainer.saveState());
    await this.service.append(experimentId, [
      {
        type: 'CheckpointSaved',
        data: { step, epoch: Math.floor(step / stepsPerEpoch), location: written.location, sha256: written.sha256, size: written.size, streamPosition },
        idempotencyKey: `checkpoint:${step}`,
        metadata: { workerId: lease.workerId, step },
      },
    ]);
  }

  private async checkpointBeforeSample(experimentId: string, step: number) {
    const sample = await this.service.store.readByKey(experimentId, `step:${step}:sample`);
    if (!sample) throw new Error(`experiment '${experimentId}': the pending sample of step ${step} is not stored`);
    // (txid, position - 1) sorts just before the event within its own transaction.
    return { transactionId: sample.transactionId, position: sample.position - 1 };
  }

  private assertLeaseHealthy(): void {
    const failure = this.held?.heartbeatFailure;
    if (failure) throw new Error(`lease heartbeat failed: ${(failure as Error).message ?? String(failure)}`);
  }
}

