import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';
import type { DomainEvent, EventData, EventMetadata } from '../events/catalog.js';
import { IdempotencyConflictError } from '../events/errors.js';
import type { AppendResult, NewEvent } from '../events/stream-store.js';
import { DomainError } from '../kernel/domain-error.js';
import { SearchSpace } from '../search-space/search-space.js';
import { assertValidLoss, decideReward, sameArchitecture } from '../tree/reward.js';
import { compactSample, phaseChangeAt, sampleArchitecture } from '../tree/sampling.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { requireTree } from '../tree/state.js';
import { decideRankingAnalysis, type RankingAnalysisInput } from '../analysis/ranking-analysis.js';
import { ExperimentStateError, LeaseConflictError, LeaseNotFoundError, StepOrderError } from './errors.js';
import type { EventFeed, StreamStore } from '../events/stream-store.js';
import type { Decide, Decision, ExperimentProjections, ExperimentView } from './experiment-projections.js';
import { toExperimentCreated } from './experiment-request.js';
import type { ExperimentEntry, ExperimentIndex, ExperimentPage } from './ports.js';
import { activeLease, type Lease } from './experiment-status.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface StepSample {
  readonly step: number;
  readonly architecture: number[];
  readonly phase: EventData<'ArchitectureSampled'>['phase'];
  readonly sampler: EventData<'ArchitectureSampled'>['sampler'];
  /** per layer, the distribution the op was drawn from (null only for a sample recorded compact by another sampler) */
  readonly probabilities: number[][] | null;
  readonly chosenProbabilities: number[];
  readonly flops: number;
  /** position of the ArchitectureSampled event */
  readonly position: number;
}

export interface StepReward {
  readonly step: number;
  readonly loss: number;
  readonly movingAverageLoss: number;
  readonly reward: number;
  readonly duplicate: boolean;
  readonly position: number;
}

/** A step's reward with the next step's sample, decided together and committed in one append. */
export interface StepOutcome extends StepReward {
  /** the next step's sample; null when training is over */
  readonly next: StepSample | null;
}

/** The next step's sample as decided in memory, before its commit (no position yet). */
export type DecidedSample = Omit<StepSample, 'position'>;

/**
 * `tellAhead`'s two moments: `decided` as soon as the next sample is drawn in memory (null:
 * training is over), `committed` once the reward and that sample are stored.
 */
export interface StepInFlight {
  readonly decided: Promise<DecidedSample | null>;
  readonly committed: Promise<StepOutcome>;
}

const SPACE_CACHE_ENTRIES = 64;

/**
 * The experiment's command side: each command reads the projections, decides with the pure
 * core (src/tree), and appends at the version it read, retrying on a concurrent append.
 * Step events carry idempotency keys (`step:<t>:sample|reward|visits`) so a retried command
 * after an ambiguous commit never records a step twice.
 */
export class ExperimentService<S extends StreamStore = StreamStore & EventFeed> {
  /** search spaces of the experiments commanded lately (bounded: one process may serve any number of experiments) */
  private readonly spaces = new LRUCache<string, SearchSpace>({ max: SPACE_CACHE_ENTRIES });

  constructor(
    readonly store: S,
    readonly projections: ExperimentProjections,
    private readonly clock: Clock = systemClock,
    /** the experiment index, for `list` (the runtime wires it) */
    private readonly index: ExperimentIndex | null = null,
  ) {}

  /** Every experiment, oldest first, or a page of them (through the ExperimentIndex port). */
  list(page?: ExperimentPage): Promise<ExperimentEntry[]> {
    if (!this.index) throw new Error('this ExperimentService was built without an ExperimentIndex (use createRuntime or createMemoryRuntime)');
    return this.index.list(page);
  }

  async create(request: unknown, options: { id?: string; workerId?: string } = {}): Promise<{ id: string; position: number }> {
    const data = toExperimentCreated(request);
    // Validated with the rest of the request by toExperimentCreated.
    const priority = (request as { priority?: number }).priority;
    const id = options.id ?? `exp-${randomUUID()}`;
    const metadata = { workerId: options.workerId ?? null };
    const appended = await this.store.append(id, 'no-stream', [
      { type: 'ExperimentCreated', data, metadata },
      ...(priority === undefined || priority === 0 ? [] : [{ type: 'ExperimentPrioritized', data: { priority, reason: 'given at creation' }, metadata }]),
    ]);
    return { id, position: appended.positions[0]! };
  }

  /** Sets the order in which pool workers claim the experiment (higher first). Idempotent. */
  prioritize(id: string, priority: number, reason: string): Promise<{ position: number; priority: number }> {
    return this.execute(id, (view) => {
      if (view.status.priority === priority) return { events: [], answer: () => ({ position: view.position, priority }) };
      return { events: [{ type: 'ExperimentPrioritized', data: { priority, reason } }], answer: (a) => ({ position: a!.positions[0]!, priority }) };
    });
  }

  /** The search space of an experiment (cached; spaces are immutable once created). */
  space(view: ExperimentView): SearchSpace {
    let space = this.spaces.get(view.id);
    if (!space) {
      space = SearchSpace.fromDefinition(requireTree(view.tree).config.experiment.searchSpace);
      this.spaces.set(view.id, space);
    }
    return space;
  }

  acquireLease(id: string, workerId: string, ttlMs = 30_000): Promise<Lease & { position: number }> {
    return this.execute(id, (view) => {
      // No lifecycle check: a completed experiment may still be leased to run another search.
      const now = this.clock.now();
      const active = activeLease(view.status, now);
      if (active && active.workerId !== workerId) {
        throw new LeaseConflictError(`experiment '${id}' is leased to worker '${active.workerId}' until ${active.expiresAt}`);
      }
      const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
      const meta = { workerId };
      if (active) {
        const lease = { ...active, expiresAt };
        return { events: [{ type: 'WorkerHeartbeat', data: { workerId, leaseId: active.leaseId, expiresAt }, metadata: meta }], answer: (a) => ({ ...lease, position: a!.positions[0]! }) };
      }
      const events: NewEvent[] = [];
      const stale = view.status.lease;
      if (stale) {
        events.push({ type: 'WorkerLeaseExpired', data: { workerId: stale.workerId, leaseId: stale.leaseId, expiredAt: stale.expiresAt, detectedBy: workerId }, metadata: meta });
      }
      const lease: Lease = { workerId, leaseId: randomUUID(), ttlMs, expiresAt };
      events.push({ type: 'WorkerLeaseAcquired', data: lease, metadata: meta });
      return { events, answer: (a) => ({ ...lease, position: a!.positions[a!.positions.length - 1]! }) };
    });
  }

  heartbeat(id: string, leaseId: string): Promise<Lease & { position: number }> {
    return this.execute(id, (view) => {
      const lease = this.requireLease(view, leaseId);
      const expiresAt = new Date(this.clock.now().getTime() + lease.ttlMs).toISOString();
      return {
        events: [{ type: 'WorkerHeartbeat', data: { workerId: lease.workerId, leaseId, expiresAt }, metadata: { workerId: lease.workerId } }],
        answer: (a) => ({ ...lease, expiresAt, position: a!.positions[0]! }),
      };
    });
  }

  /**
   * Releases a lease. Idempotent: releasing a lease no longer in force (released, expired,
   * taken over) writes nothing; a lease id this experiment never issued is not found.
   */
  async releaseLease(id: string, leaseId: string): Promise<{ position: number }> {
    const released = await this.execute(id, (view) => {
      const lease = view.status.lease;
      if (!lease || lease.leaseId !== leaseId) return { events: [], answer: () => ({ position: view.position, current: false }) };
      return {
        events: [{ type: 'WorkerLeaseReleased', data: { workerId: lease.workerId, leaseId }, metadata: { workerId: lease.workerId } }],
        answer: (a) => ({ position: a!.positions[0]!, current: true }),
      };
    });
    if (!released.current) {
      const issued = await this.store.readStream(id, { types: ['WorkerLeaseAcquired'] });
      if (!issued.some((e) => (e.data as EventData<'WorkerLeaseAcquired'>).leaseId === leaseId)) throw new LeaseNotFoundError(id, leaseId);
    }
    return { position: released.position };
  }

  /**
   * The next training step's architecture. Steps are sequential: step t is sampled once step
   * t-1's reward is in the tree. Asking again before telling returns the same sample.
   * Null when training is over.
   */
  async ask(id: string, leaseId: string): Promise<StepSample | null> {
    const result = await this.execute<StepSample | { pending: DecidedSample | null; step: number } | null>(id, (view) => {
      const lease = this.requireLease(view, leaseId);
      this.assertRunnable(view);
      const next = this.decideSample(view, lease);
      if (next === null) return { events: [], answer: () => null };
      const { sample, events } = next;
      if (events.length === 0) return { events, answer: () => ({ pending: sample, step: view.tree.lastRewardedStep + 1 }) };
      return { events, answer: (a) => ({ ...sample!, position: a!.positions[a!.positions.length - 1]! }) };
    });
    if (result === null || !('pending' in result)) return result;
    const pending = await this.eventByKey<'ArchitectureSampled'>(id, `step:${result.step}:sample`);
    // Recorded by another sampler (or an older version): the stored payload as it is.
    return { ...(result.pending ?? pending.data), position: pending.position };
  }

  /**
   * The sample `ask` would record now, decided on the projections without appending anything
   * (null: training is over, or the pending recorded sample is another sampler's). For a
   * trainer that starts the step while something else is still to be recorded before its
   * sample (a checkpoint): the `ask` that follows records this same sample.
   */
  nextSample(id: string, leaseId: string): Promise<DecidedSample | null> {
    return this.projections.read(id, (view) => {
      const lease = this.requireLease(view, leaseId);
      this.assertRunnable(view);
      return this.decideSample(view, lease)?.sample ?? null;
    });
  }

  /**
   * The sample of the step after the last rewarded one (null: training is over) and the events
   * recording it; no events when it is already recorded (pending), and then a null sample when
   * the recorded one differs from this sampler's draw.
   */
  private decideSample(view: ExperimentView, lease: Lease): { sample: DecidedSample | null; events: NewEvent[] } | null {
    const tree = view.tree;
    const { config } = requireTree(tree);
    const step = tree.lastRewardedStep + 1;
    if (step >= totalTrainingSteps(config.schedule)) return null;
    // The sample is a pure function of the tree as of step - 1: a pending one is drawn again
    // identically (the stored event is compact; the answer carries the full probabilities).
    const sample = sampleArchitecture(tree, this.space(view), step);
    if (tree.lastSampled?.step === step) return { sample: sameArchitecture(tree.lastSampled.architecture, sample.architecture) ? sample : null, events: [] };
    const meta: Partial<EventMetadata> = { workerId: lease.workerId, step };
    const events: NewEvent[] = [];
    const phaseChange = phaseChangeAt(tree, step);
    if (phaseChange) events.push({ type: 'PhaseChanged', data: phaseChange, metadata: meta, idempotencyKey: `phase:${phaseChange.to}` });
    events.push({ type: 'ArchitectureSampled', data: compactSample(sample), metadata: meta, idempotencyKey: `step:${step}:sample` });
    return { sample, events };
  }

  /**
   * Records step `step`'s training loss: RewardRecorded (+ VisitCountsUpdated outside warm-up).
   * A retry with the same loss returns the recorded reward; a different loss for a recorded
   * step is a conflict.
   */
  async tell(id: string, leaseId: string, step: number, loss: number): Promise<StepReward> {
    const result = await this.execute(id, this.decideTell(leaseId, step, loss, false));
    return typeof result === 'number' ? this.recordedReward(id, result, loss) : result;
  }

  /**
   * `tell` and the next step's `ask` in one command: the reward of `step` and the sample of
   * step + 1 are decided together (the sample on the tree the reward leads to) and committed
   * in one append, one round trip. A retried tell of a recorded step answers the recorded
   * reward and the next sample as `ask` would.
   */
  tellAndAsk(id: string, leaseId: string, step: number, loss: number): Promise<StepOutcome> {
    return this.tellAhead(id, leaseId, step, loss).committed;
  }

  /**
   * `tellAndAsk` for write-behind: `decided` resolves with the next sample as soon as it is
   * drawn in memory, while the append of [reward, sample] is still in flight (`committed`).
   * The next command on the experiment waits for this commit. Should the commit fail, nothing
   * of it is in the projections; telling the same loss again decides the same sample.
   */
  tellAhead(id: string, leaseId: string, step: number, loss: number): StepInFlight {
    let early: ((sample: DecidedSample | null) => void) | null = null;
    const decided = new Promise<DecidedSample | null>((resolve) => (early = resolve));
    const committed = (async (): Promise<StepOutcome> => {
      const result = await this.execute(id, this.decideTell(leaseId, step, loss, true), (decision) => early?.((decision.ahead as DecidedSample | null | undefined) ?? null));
      if (typeof result !== 'number') return result as StepOutcome;
      return { ...(await this.recordedReward(id, result, loss)), next: await this.ask(id, leaseId) };
    })();
    committed.then(
      (outcome) => early?.(outcome.next),
      () => early?.(null),
    );
    return { decided, committed };
  }

  /**
   * Decides `step`'s RewardRecorded (+ VisitCountsUpdated outside warm-up); with `andNext`,
   * also the sample of step + 1 on the tree the reward leads to (staged). Answers the step
   * number when it is already recorded.
   */
  private decideTell(leaseId: string, step: number, loss: number, andNext: boolean): Decide<StepReward | StepOutcome | number> {
    assertValidLoss(loss);
    return (view, stage) => {
      const lease = this.requireLease(view, leaseId);
      const tree = view.tree;
      if (Number.isInteger(step) && step >= 0 && step <= tree.lastRewardedStep) return { events: [], answer: () => step };
      this.assertRunnable(view);
      if (!tree.lastSampled || tree.lastSampled.step !== step || step !== tree.lastRewardedStep + 1) {
        throw new StepOrderError(`step ${step} is not the pending step: the experiment expects the loss of step ${tree.lastRewardedStep + 1}${tree.lastSampled?.step === tree.lastRewardedStep + 1 ? '' : ' once it is sampled (ask first)'}`);
      }
      const decision = decideReward(tree, step, tree.lastSampled.architecture, loss);
      const meta: Partial<EventMetadata> = { workerId: lease.workerId, step };
      const keys = ['reward', 'visits'];
      const events: NewEvent[] = decision.events.map((e, i) => ({ type: e.type, data: e.data, metadata: meta, idempotencyKey: `step:${step}:${keys[i]}` }));
      // A concurrent identical tell may have committed the same keyed events first: the store
      // then writes nothing and says so, and this answer is the duplicate.
      const reward = (a: AppendResult | null): StepReward => ({ step, loss, movingAverageLoss: decision.reward.movingAverageLoss, reward: decision.reward.reward, duplicate: a!.duplicate, position: a!.positions[0]! });
      if (!andNext) return { events, answer: reward };
      const next = this.decideSample(stage(events), lease);
      const sample = next?.sample ?? null;
      return {
        events: next?.events ?? [],
        ahead: sample,
        answer: (a): StepOutcome => ({ ...reward(a), next: sample && { ...sample, position: a!.positions[a!.positions.length - 1]! } }),
      };
    };
  }

  /**
   * Records a weight checkpoint an external trainer saved after step `step` (already rewarded).
   * The event's stream position is that of the step's reward, so a retry is the same event
   * (idempotency key `checkpoint:<step>`) and writes nothing; another file for the same step is
   * a conflict.
   */
  async recordCheckpoint(
    id: string,
    leaseId: string,
    checkpoint: Omit<EventData<'CheckpointSaved'>, 'streamPosition'>,
  ): Promise<EventData<'CheckpointSaved'> & { position: number }> {
    const view = await this.projections.current(id);
    const lease = this.requireLease(view, leaseId);
    if (checkpoint.step > view.tree.lastRewardedStep) {
      throw new StepOrderError(`step ${checkpoint.step} has no recorded reward yet (the last is ${view.tree.lastRewardedStep}): tell it before checkpointing it`);
    }
    const reward = await this.store.readByKey(id, `step:${checkpoint.step}:reward`);
    if (!reward) throw new StepOrderError(`step ${checkpoint.step} has no recorded reward`);
    const data = { ...checkpoint, streamPosition: reward.position };
    const appended = await this.append(id, [{ type: 'CheckpointSaved', data, metadata: { workerId: lease.workerId, step: checkpoint.step }, idempotencyKey: `checkpoint:${checkpoint.step}` }]);
    return { ...data, position: appended.positions[0]! };
  }

  pause(id: string, reason: string): Promise<{ position: number }> {
    return this.transition(id, 'ExperimentPaused', { reason }, (view) => {
      if (view.status.lifecycle === 'paused') return false;
      this.assertOpen(view);
      return true;
    });
  }

  resume(id: string, reason: string): Promise<{ position: number }> {
    return this.transition(id, 'ExperimentResumed', { reason }, (view) => {
      if (view.status.lifecycle !== 'paused') return false;
      return true;
    });
  }

  complete(id: string, step: number): Promise<{ position: number }> {
    return this.transition(id, 'ExperimentCompleted', { step }, (view) => view.status.lifecycle !== 'completed');
  }

  fail(id: string, error: string, step: number | null): Promise<{ position: number }> {
    return this.transition(id, 'ExperimentFailed', { error: error.slice(0, 10_000), step }, (view) => view.status.lifecycle !== 'failed');
  }

  /**
   * Pins a retained checkpoint: retention never deletes it until it is unpinned. Idempotent.
   * Unknown or already pruned step: not found (404, field `step`).
   */
  pinCheckpoint(id: string, step: number, reason: string): Promise<{ position: number; pinned: boolean }> {
    return this.execute(id, (view) => {
      if (!view.status.retainedCheckpoints.some((c) => c.step === step)) {
        const pruned = view.status.prunedCheckpoints.some((c) => c.step === step);
        throw new DomainError('not-found', 'CheckpointNotFound', `experiment '${id}' has no ${pruned ? 'retained ' : ''}checkpoint of step ${step}${pruned ? ' (it was pruned)' : ''}`, 'step');
      }
      if (view.status.pinnedCheckpoints.includes(step)) return { events: [], answer: () => ({ position: view.position, pinned: true }) };
      return { events: [{ type: 'CheckpointPinned', data: { step, reason } }], answer: (a) => ({ position: a!.positions[0]!, pinned: true }) };
    });
  }

  /** Unpins a checkpoint (the retention policy applies to it again at the next save). Idempotent. */
  unpinCheckpoint(id: string, step: number, reason: string): Promise<{ position: number; pinned: boolean }> {
    return this.execute(id, (view) => {
      if (!view.status.pinnedCheckpoints.includes(step)) return { events: [], answer: () => ({ position: view.position, pinned: false }) };
      return { events: [{ type: 'CheckpointUnpinned', data: { step, reason } }], answer: (a) => ({ position: a!.positions[0]!, pinned: false }) };
    });
  }

  /**
   * Records a ranking analysis of the experiment's supernet against a stand-alone table
   * (RankingAnalysisRecorded, idempotency key `analysis:<analysisId>`: a retry returns the
   * recorded position, the same id with other values is a conflict). Every key must be an
   * architecture of the experiment's space (422 naming `pairs.<i>.key`).
   */
  recordRankingAnalysis(id: string, input: RankingAnalysisInput, workerId?: string): Promise<{ position: number }> {
    return this.execute(id, (view) => {
      const space = this.space(view);
      input.pairs.forEach((p, i) => {
        try {
          space.decode(p.key);
        } catch (error) {
          throw new DomainError('unprocessable', 'RankingAnalysisError', `architecture '${p.key}' is not in the experiment's space (${(error as Error).message})`, `pairs.${i}.key`);
        }
      });
      const data = decideRankingAnalysis(input, view.tree.lastRewardedStep);
      return {
        events: [{ type: 'RankingAnalysisRecorded', data, idempotencyKey: `analysis:${input.analysisId}`, ...(workerId !== undefined && { metadata: { workerId } }) }],
        answer: (a) => ({ position: a!.positions[0]! }),
      };
    });
  }

  /** Appends events of the trainer's own (backend, checkpoints, search) at the current version. */
  append(id: string, events: readonly NewEvent[], expected?: number): Promise<AppendResult> {
    if (expected !== undefined) return this.store.append(id, expected, events);
    return this.execute(id, () => ({ events, answer: (a) => a! }));
  }

  private transition<T extends DomainEvent['type']>(id: string, type: T, data: EventData<T>, applies: (view: ExperimentView) => boolean): Promise<{ position: number }> {
    return this.execute(id, (view) =>
      applies(view) ? { events: [{ type, data }], answer: (a) => ({ position: a!.positions[0]! }) } : { events: [], answer: () => ({ position: view.position }) },
    );
  }

  /** Decides on the projections and appends at the version decided on (ExperimentProjections.execute). */
  private execute<R>(id: string, decide: Decide<R>, onDecided?: (decision: Decision<R>) => void): Promise<R> {
    return this.projections.execute(id, decide, onDecided);
  }

  private async recordedReward(id: string, step: number, loss: number): Promise<StepReward> {
    const { data, position } = await this.eventByKey<'RewardRecorded'>(id, `step:${step}:reward`);
    if (data.loss !== loss) {
      throw new IdempotencyConflictError(id, `step:${step}:reward`, `step ${step} already recorded loss ${data.loss}; refusing a different loss ${loss}`);
    }
    return { step, loss, movingAverageLoss: data.movingAverageLoss, reward: data.reward, duplicate: true, position };
  }

  private async eventByKey<T extends DomainEvent['type']>(id: string, key: string): Promise<{ data: EventData<T>; position: number }> {
    const event = await this.store.readByKey(id, key);
    if (!event) throw new Error(`experiment '${id}' has no event with key '${key}'`);
    return { data: event.data as EventData<T>, position: event.position };
  }

  private requireLease(view: ExperimentView, leaseId: string): Lease {
    const lease = activeLease(view.status, this.clock.now());
    if (!lease) throw new LeaseConflictError(`experiment '${view.id}' has no active lease: acquire one first`);
    if (lease.leaseId !== leaseId) throw new LeaseConflictError(`lease '${leaseId}' is not the active lease of experiment '${view.id}' (held by worker '${lease.workerId}')`);
    return lease;
  }

  private assertOpen(view: ExperimentView): void {
    if (view.status.lifecycle === 'completed' || view.status.lifecycle === 'failed') {
      throw new ExperimentStateError(`experiment '${view.id}' is ${view.status.lifecycle}`);
    }
  }

  private assertRunnable(view: ExperimentView): void {
    this.assertOpen(view);
    if (view.status.lifecycle === 'paused') throw new ExperimentStateError(`experiment '${view.id}' is paused: resume it first`);
  }
}
