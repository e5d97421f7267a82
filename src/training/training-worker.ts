import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { EventData } from '../events/catalog.js';
import { ExperimentStateError } from '../experiments/errors.js';
import type { DecidedSample, ExperimentService, StepOutcome } from '../experiments/experiment-service.js';
import { sameArchitecture } from '../tree/reward.js';
import type { Lease } from '../experiments/experiment-status.js';
import { HeldLease } from '../experiments/held-lease.js';
import { hasCode } from '../kernel/domain-error.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { requireTree } from '../tree/state.js';
import { checkpointKey, CheckpointStorageError, type CheckpointStore } from '../checkpoints/checkpoint-store.js';
import { DEFAULT_RETENTION, planPruning, type RetentionPolicy } from '../checkpoints/retention.js';
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
  /** where weights are stored (local directory, object store) */
  readonly checkpoints: CheckpointStore;
  /** save weights every this many steps */
  readonly checkpointEvery: number;
  /** which older checkpoints are deleted after a new one is verified (default: DEFAULT_RETENTION) */
  readonly retention?: RetentionPolicy;
  /** while the store refuses a checkpoint (full disk...), retry it this often (default 30 s) */
  readonly storageRetryMs?: number;
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

/** Prefix of the pause reason a worker records when the checkpoint store refuses a write. */
export const STORAGE_PAUSE_PREFIX = 'checkpoint storage unavailable';
/** Prefix of the pause reason recorded after the event database was out of space. */
export const DATABASE_PAUSE_PREFIX = 'database storage full';

/** A full disk under the event database: Postgres/PGlite SQLSTATE 53100, or ENOSPC/EDQUOT. */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '53100' || code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** Thrown inside the worker when it was stopped while waiting for database space. */
class StoppedWhileWaiting extends Error {}

/**
 * Loads the newest retained checkpoint whose bytes the store returns with the recorded sha256,
 * falling back to older ones; returns it (null: none usable) and why the others were rejected.
 */
export async function restoreNewestCheckpoint(
  trainer: StepTrainer,
  store: CheckpointStore,
  checkpoints: readonly EventData<'CheckpointSaved'>[],
  log?: WorkerOptions['log'],
): Promise<{ checkpoint: EventData<'CheckpointSaved'> | null; rejected: string[] }> {
  const rejected: string[] = [];
  for (const candidate of [...checkpoints].reverse()) {
    const file = await store.readVerified(candidate.location, candidate.sha256);
    if ('bytes' in file) {
      await trainer.loadState(file.bytes);
      return { checkpoint: candidate, rejected };
    }
    rejected.push(file.problem);
    log?.('checkpoint rejected', { problem: file.problem });
  }
  return { checkpoint: null, rejected };
}

/**
 * Trains an experiment step by step: step t's reward (RewardRecorded + VisitCountsUpdated) and
 * step t+1's ArchitectureSampled are decided together and committed in one append
 * (ExperimentService.tellAhead, idempotent per step); the worker trains step t+1 on the
 * sample the decision returned (it does not wait for its own event to come back through a
 * subscription) while that append is in flight, and checkpoints every N steps. Other readers
 * (API, SSE, other processes) follow the run through the event stream.
 *
 * Resume (DESIGN §4): load the newest checkpoint whose sha256 verifies (older ones on
 * mismatch), re-train the already-rewarded steps after it from their recorded paths without
 * appending, then train the sampled-but-unrewarded step and go live. Killing the process at
 * any instant leaves the history as if it had never stopped.
 */
export class TrainingWorker {
  private held: HeldLease | null = null;
  /** the checkpoint this run restored from: a running resume depends on it, never pruned */
  private restoredStep: number | null = null;

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
    const { checkpoint, rejected } = await restoreNewestCheckpoint(this.trainer, this.options.checkpoints, view.status.retainedCheckpoints, this.options.log);
    this.restoredStep = checkpoint?.step ?? null;
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

  /**
   * The live loop, write-behind: after training step t, its reward and the sample of step t+1
   * are decided together in memory (`tellAhead`) and step t+1 trains while that append is in
   * flight; before telling step t+1 the worker waits for the commit and checks that the stored
   * sample is the one it trained (a retried commit decides the same sample; anything else
   * stops the run rather than diverge). So the weights are at most the in-flight step ahead of
   * the log, which resume recomputes bit-identically. At a checkpoint step (and the last one
   * before stopping) the reward is committed first, the checkpoint written (every event it
   * depends on is then stored), and only then is the next step sampled.
   */
  private async trainLive(experimentId: string, lease: Lease): Promise<Omit<TrainingOutcome, 'resume'>> {
    const before = await this.service.projections.current(experimentId);
    const { config } = requireTree(before.tree);
    const totalSteps = totalTrainingSteps(config.schedule);
    let lastStep = before.tree.lastRewardedStep;
    let liveSteps = 0;
    let status: TrainingOutcome['status'] = 'finished';
    const started = Date.now();
    const stopping = () => this.options.signal?.aborted || (this.options.maxLiveSteps !== undefined && liveSteps >= this.options.maxLiveSteps);
    /** Runs a step command; false (and the status set) when the worker stops instead. */
    const attempt = async <T>(what: string, step: number, command: () => Promise<T>): Promise<T | null> => {
      try {
        return await this.untilDatabaseAccepts(experimentId, lease, what, step, command);
      } catch (error) {
        if (error instanceof StoppedWhileWaiting) status = 'stopped';
        else if (error instanceof ExperimentStateError && /paused/.test(error.message)) status = 'paused';
        else throw error;
        return null;
      }
    };
    const askNext = async (): Promise<DecidedSample | null> => {
      if (stopping()) {
        status = 'stopped';
        return null;
      }
      return attempt('ask', lastStep + 1, () => this.service.ask(experimentId, lease.leaseId));
    };
    // A run that stopped while the store refused its checkpoint: store it now (waiting for
    // space), then resume the experiment.
    const failure = before.status.checkpointFailure;
    if (before.status.lifecycle === 'paused' && before.status.pausedReason?.startsWith(STORAGE_PAUSE_PREFIX)) {
      if (failure && failure.step === lastStep && !(await this.saveCheckpoint(experimentId, lease, lastStep, config.schedule.stepsPerEpoch, before.position, this.trainer.saveState()))) {
        return { status: 'paused', liveSteps, lastStep };
      }
      await this.service.resume(experimentId, 'checkpoint storage available again');
    }

    /** the previous step's commit of [reward, the sample now training], still in flight */
    let inFlight: { step: number; loss: number; committed: Promise<StepOutcome> } | null = null;
    /** Waits for the in-flight commit; one that failed on a full disk is told again (same loss: the same events). Null: stopped. */
    const settle = async (): Promise<StepOutcome | null> => {
      const { step, loss, committed } = inFlight!;
      inFlight = null;
      let tries = 0;
      const stored = await attempt('tell', step, () => (tries++ === 0 ? committed : this.service.tellAndAsk(experimentId, lease.leaseId, step, loss)));
      if (stored !== null) lastStep = step;
      return stored;
    };

    /** Starts a step on the trainer: one on another thread computes while this thread goes on. */
    const start = (next: DecidedSample): Promise<number> => {
      this.assertLeaseHealthy();
      const training = this.trainer.trainStep(next.step, next.architecture);
      training.catch(() => undefined); // awaited later; a failure must not surface as unhandled meanwhile
      return training;
    };
    /** Stops the run unless the log recorded `trained` as its step's sample: the weights never diverge from the log. */
    const assertRecorded = (trained: DecidedSample, recorded: DecidedSample | null): void => {
      if (recorded && recorded.step === trained.step && sameArchitecture(recorded.architecture, trained.architecture)) return;
      throw new Error(`experiment '${experimentId}': step ${trained.step} trained ${trained.architecture.join('')} but the log recorded ${recorded ? `${recorded.step}: ${recorded.architecture.join('')}` : 'no sample'}; stopping before the weights diverge from the log`);
    };
    /** the step of `sample`, when it started training before its sample was recorded (across a checkpoint) */
    let early: Promise<number> | null = null;

    // The pending sample (appended before a crash) or a new one.
    let sample = await askNext();
    while (sample) {
      const step = sample.step;
      // Started before anything else runs here: a trainer on another thread then computes while
      // this one runs the in-flight commit (PGlite's included, which runs on this thread).
      const training = early ?? start(sample);
      early = null;
      // PGlite answers without a macrotask turn: yield so heartbeats and signals run.
      await yieldToEventLoop();
      const loss = await training;
      if (inFlight) {
        const stored = await settle();
        if (stored === null) return { status, liveSteps, lastStep }; // this step's training is lost; resume trains it again
        assertRecorded(sample, stored.next);
      }
      liveSteps += 1;
      this.options.onProgress?.({ step, totalSteps, phase: sample.phase, loss, stepsPerSecond: liveSteps / ((Date.now() - started) / 1000) });
      const checkpointHere = (step + 1) % this.options.checkpointEvery === 0 || step + 1 === totalSteps;
      if (checkpointHere || stopping()) {
        const told = await attempt('tell', step, () => this.service.tell(experimentId, lease.leaseId, step, loss));
        if (told === null) return { status, liveSteps: liveSteps - 1, lastStep };
        lastStep = step;
        if (!checkpointHere) {
          sample = await askNext();
          continue;
        }
        // The state after this step is taken first (the trainer answers in order); the next
        // step, decided in memory (the checkpoint does not change it), trains while the
        // checkpoint is written and recorded, and its sample is recorded after the checkpoint,
        // as without the overlap. A failed decision just starts nothing early: `ask` says why.
        const state = Promise.resolve(this.trainer.saveState());
        state.catch(() => undefined); // awaited by saveCheckpoint
        const next = stopping() ? null : await this.service.nextSample(experimentId, lease.leaseId).catch(() => null);
        early = next && start(next);
        if (!(await this.saveCheckpoint(experimentId, lease, step, config.schedule.stepsPerEpoch, told.position, state))) {
          return { status: 'paused', liveSteps, lastStep }; // a step started early is lost; resume trains it again
        }
        // None (stopped, paused): the early step is lost; resume trains it again.
        sample = await askNext();
        if (early && sample) assertRecorded(next!, sample);
        continue;
      }
      const ahead = this.service.tellAhead(experimentId, lease.leaseId, step, loss);
      inFlight = { step, loss, committed: ahead.committed };
      sample = await ahead.decided;
    }
    // No next sample: the last reward's commit settles the run.
    if (inFlight && (await settle()) === null) return { status, liveSteps: liveSteps - 1, lastStep };
    return { status, liveSteps, lastStep };
  }

  /**
   * Stores `state` (the trainer's, taken after step `step`), reads it back and verifies its
   * sha256, records CheckpointSaved, then prunes by the retention policy. When the store refuses (full disk, I/O error,
   * permission), nothing is recorded but CheckpointWriteFailed and the pause (the reason says
   * why); the worker retries every `storageRetryMs` and resumes the experiment once the write
   * succeeds. False: stopped (abort signal) while the store was still refusing.
   */
  private async saveCheckpoint(experimentId: string, lease: Lease, step: number, stepsPerEpoch: number, streamPosition: number, state: Promise<Uint8Array> | Uint8Array): Promise<boolean> {
    const store = this.options.checkpoints;
    const bytes = await state;
    let pausedHere = false;
    for (;;) {
      this.assertLeaseHealthy();
      try {
        const stored = await store.put(checkpointKey(experimentId, step), bytes);
        const check = await store.readVerified(stored.location, stored.sha256);
        if ('problem' in check) {
          await store.delete(stored.location).catch(() => false);
          throw new CheckpointStorageError('read', 'EIO', stored.location, check.problem);
        }
        await this.untilDatabaseAccepts(experimentId, lease, 'checkpoint record', step, () => this.service.append(experimentId, [
          {
            type: 'CheckpointSaved',
            data: { step, epoch: Math.floor(step / stepsPerEpoch), ...stored, streamPosition, store: store.kind, verifiedAt: new Date().toISOString() },
            idempotencyKey: `checkpoint:${step}`,
            metadata: { workerId: lease.workerId, step },
          },
        ]));
        break;
      } catch (error) {
        if (error instanceof StoppedWhileWaiting) return false;
        if (!(error instanceof CheckpointStorageError)) throw error;
        await this.recordStorageFailure(experimentId, lease, step, error);
        pausedHere = true;
        try {
          await sleep(this.options.storageRetryMs ?? 30_000, undefined, { signal: this.options.signal });
        } catch {
          return false; // aborted: the experiment stays paused; the next run stores this step first
        }
      }
    }
    const view = await this.service.projections.current(experimentId);
    if (view.status.lifecycle === 'paused' && view.status.pausedReason?.startsWith(STORAGE_PAUSE_PREFIX)) {
      await this.service.resume(experimentId, `checkpoint of step ${step} stored`);
    } else if (pausedHere) {
      this.options.log?.('checkpoint stored after a storage failure', { step });
    }
    await this.prune(experimentId, lease, step);
    return true;
  }

  /**
   * Runs a command against the event database; while the database is unreachable, retries with
   * a back-off (up to 5 s); while the database's disk is full (SQLSTATE
   * 53100, ENOSPC), says so and retries every `storageRetryMs` (nothing was committed: each
   * command is one transaction). Once it goes through, the outage is recorded as a pause with
   * its reason and an immediate resume: the database could not record it while it lasted.
   * Throws StoppedWhileWaiting when aborted meanwhile.
   */
  private async untilDatabaseAccepts<T>(experimentId: string, lease: Lease, what: string, step: number, command: () => Promise<T>): Promise<T> {
    let since: string | null = null;
    let first = '';
    for (let unavailable = 0; ; ) {
      try {
        const result = await command();
        if (since !== null) {
          const reason = `${DATABASE_PAUSE_PREFIX}: the ${what} of step ${step} could not be recorded from ${since} until ${new Date().toISOString()} (${first.slice(0, 300)}); training waited, nothing was lost`;
          await this.service.pause(experimentId, reason);
          await this.service.resume(experimentId, 'database storage available again');
        }
        return result;
      } catch (error) {
        if (hasCode(error, 'DatabaseUnavailable')) {
          // Unreachable (possibly mid-commit: the retry is idempotent per step): wait and try
          // again, never past this step, so training stays within the in-flight step of the log.
          this.options.log?.('database unavailable', { what, step, message: (error as Error).message });
          try {
            await sleep(Math.min(5_000, 100 * 2 ** unavailable++), undefined, { signal: this.options.signal });
          } catch {
            throw new StoppedWhileWaiting(`stopped while the database was unavailable (${what} of step ${step})`);
          }
          continue;
        }
        if (!isDiskFull(error)) throw error;
        if (since === null) {
          since = new Date().toISOString();
          first = (error as Error).message ?? String(error);
        }
        this.options.log?.('database storage full', { what, step, message: (error as Error).message });
        try {
          await sleep(this.options.storageRetryMs ?? 30_000, undefined, { signal: this.options.signal });
        } catch {
          throw new StoppedWhileWaiting(`stopped while the database was full (${what} of step ${step})`);
        }
      }
    }
  }

  private async recordStorageFailure(experimentId: string, lease: Lease, step: number, error: CheckpointStorageError): Promise<void> {
    this.options.log?.('checkpoint write failed', { step, failure: error.failure, message: error.message });
    const status = (await this.service.projections.current(experimentId)).status;
    const known = status.checkpointFailure;
    if (!known || known.step !== step || known.failure !== error.failure) {
      await this.service.append(experimentId, [
        {
          type: 'CheckpointWriteFailed',
          data: { step, store: this.options.checkpoints.kind, failure: error.failure, message: error.message.slice(0, 2000) },
          metadata: { workerId: lease.workerId, step },
        },
      ]);
    }
    if (status.lifecycle !== 'paused') {
      await this.service.pause(
        experimentId,
        `${STORAGE_PAUSE_PREFIX}: the checkpoint of step ${step} could not be written (${error.failure}); training waits and retries every ${Math.round((this.options.storageRetryMs ?? 30_000) / 1000)} s — free space or fix the store, nothing is lost`,
      );
    }
  }

  /**
   * Deletes what the retention policy releases: CheckpointPruned is recorded first, then the
   * file is deleted, so the audit never lacks a deletion; files the store holds for this
   * experiment that no retained checkpoint names (a crash between write and record, or a
   * deletion that failed earlier) are removed too.
   */
  private async prune(experimentId: string, lease: Lease, newestStep: number): Promise<void> {
    const store = this.options.checkpoints;
    const policy = this.options.retention ?? DEFAULT_RETENTION;
    const status = (await this.service.projections.current(experimentId)).status;
    const plan = planPruning(status.retainedCheckpoints, policy, {
      pinned: new Set(status.pinnedCheckpoints),
      newestVerifiedStep: newestStep,
      protectedSteps: new Set(this.restoredStep === null ? [] : [this.restoredStep]),
    });
    if (plan.length > 0) {
      await this.service.append(
        experimentId,
        plan.map((p) => ({ type: 'CheckpointPruned' as const, data: { step: p.step, location: p.location, reason: p.reason, policy: { ...policy } }, metadata: { workerId: lease.workerId, step: p.step } })),
      );
    }
    const prunedSteps = new Set(plan.map((p) => p.step));
    const keep = new Set(status.retainedCheckpoints.filter((c) => !prunedSteps.has(c.step)).map((c) => fileName(c.location)));
    const release = [...plan.map((p) => p.location), ...(await store.list(`${experimentId}/`)).filter((location) => !keep.has(fileName(location)))];
    for (const location of new Set(release)) {
      try {
        await store.delete(location);
      } catch (error) {
        this.options.log?.('checkpoint deletion failed; retried after the next checkpoint', { location, message: (error as Error).message });
      }
    }
  }

  private assertLeaseHealthy(): void {
    const failure = this.held?.heartbeatFailure;
    if (failure) throw new Error(`lease heartbeat failed: ${(failure as Error).message ?? String(failure)}`);
  }
}


function fileName(location: string): string {
  return location.split(/[\\/]/).at(-1)!;
}
