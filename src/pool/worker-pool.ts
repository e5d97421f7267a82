/**
 * A pool worker (`mctnas worker`): any number of them, on any hosts, share one Postgres and
 * train the runnable experiments one at a time, oldest first.
 *
 * Claiming is the event-sourced lease that already guards every experiment: a worker takes
 * an experiment by appending WorkerLeaseAcquired at the stream version it read (optimistic
 * concurrency on the stream: of two workers racing for the same experiment, one append wins,
 * the other re-reads, sees a lease in force and moves on to the next experiment). So an
 * experiment is never trained by two workers at once, whatever the number of workers, and
 * nothing outside the event store coordinates them. A worker killed with `kill -9` stops
 * heartbeating; once its lease expires, the next worker that looks takes it over (recording
 * WorkerLeaseExpired) and resumes it from the stream (and the newest verified checkpoint).
 *
 * Runnable: created or running, not paused, completed or failed, and no lease in force held by
 * another worker. Order: priority (higher first; ExperimentPrioritized, default 0), then
 * creation (the ExperimentCreated position).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExperimentService } from '../experiments/experiment-service.js';
import { activeLease } from '../experiments/experiment-status.js';
import { LeaseConflictError } from '../experiments/errors.js';
import { hasCode } from '../kernel/domain-error.js';
import type { TreeEventData } from '../tree/events.js';
import { requireTree } from '../tree/state.js';

/** Runs one claimed experiment to its end (or until the signal aborts); it holds the lease as `workerId`. */
export type ExperimentRunner = (experimentId: string, experiment: TreeEventData<'ExperimentCreated'>, options: { readonly workerId: string; readonly leaseTtlMs: number; readonly signal: AbortSignal }) => Promise<void>;

export interface WorkerOptions {
  /** unique per process: two processes with one id would both "re-acquire" the same lease */
  readonly workerId: string;
  readonly leaseTtlMs: number;
  /** how long to wait between looks when nothing is runnable */
  readonly pollMs: number;
  /** stop once nothing is runnable (instead of waiting for new experiments) */
  readonly exitWhenIdle: boolean;
  readonly signal?: AbortSignal;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface Claim {
  readonly experimentId: string;
  readonly experiment: TreeEventData<'ExperimentCreated'>;
  /** an expired lease of another worker was taken over */
  readonly tookOver: string | null;
}

/** Experiments that nobody may run right now but that will be runnable later (a lease in force). */
export interface ClaimResult {
  readonly claim: Claim | null;
  /** runnable experiments leased to another worker (they may expire): worth waiting for */
  readonly leasedElsewhere: number;
}

/**
 * Takes the lease of experiment `id` if it is runnable and not leased to another worker:
 * 'claimed', 'leased' (another worker holds it, or won the race) or 'not-runnable'.
 */
export async function tryClaim(service: ExperimentService, id: string, workerId: string, leaseTtlMs: number): Promise<{ outcome: 'claimed'; claim: Claim } | { outcome: 'leased' | 'not-runnable' }> {
  const view = await service.projections.current(id);
  const lifecycle = view.status.lifecycle;
  if (lifecycle === 'paused' || lifecycle === 'completed' || lifecycle === 'failed') return { outcome: 'not-runnable' };
  const lease = activeLease(view.status, new Date());
  if (lease && lease.workerId !== workerId) return { outcome: 'leased' };
  const stale = view.status.lease && !lease ? view.status.lease.workerId : null;
  try {
    await service.acquireLease(id, workerId, leaseTtlMs);
  } catch (error) {
    if (error instanceof LeaseConflictError) return { outcome: 'leased' }; // another worker won the race
    throw error;
  }
  return { outcome: 'claimed', claim: { experimentId: id, experiment: requireTree(view.tree).config.experiment, tookOver: stale } };
}

/**
 * Takes the lease of the first runnable experiment in claim order — highest priority first
 * (ExperimentPrioritized; default 0), then oldest first (creation order) — or reports that
 * none is.
 */
export async function claimNext(service: ExperimentService, workerId: string, leaseTtlMs: number): Promise<ClaimResult> {
  const experiments = await service.list();
  const priorities = new Map<string, number>();
  for (const { id } of experiments) priorities.set(id, (await service.projections.current(id)).status.priority);
  // A stable sort: equal priorities keep the index's creation order.
  const order = experiments.map((e) => e.id).sort((a, b) => priorities.get(b)! - priorities.get(a)!);
  let leasedElsewhere = 0;
  for (const id of order) {
    const result = await tryClaim(service, id, workerId, leaseTtlMs);
    if (result.outcome === 'claimed') return { claim: result.claim, leasedElsewhere };
    if (result.outcome === 'leased') leasedElsewhere += 1;
  }
  return { claim: null, leasedElsewhere };
}

const isOutage = (error: unknown) => hasCode(error, 'DatabaseUnavailable');

/**
 * The worker loop: claim, run, repeat. Resolves with the experiments it ran.
 *
 * A database outage (DatabaseUnavailable: the connection broke under a command) pauses the
 * worker: it waits with backoff (0.5 s doubling up to 8 s), then takes up the same experiment
 * again, keeping its lease if it is still in force. Nothing is lost: ask returns the pending
 * sample, tell and checkpoint records are idempotent, and a supernet resumes from its newest
 * verified checkpoint.
 */
export async function runWorker(service: ExperimentService, runner: ExperimentRunner, options: WorkerOptions): Promise<string[]> {
  const ran: string[] = [];
  const signal = options.signal ?? new AbortController().signal;
  let interrupted: string | null = null;
  let outages = 0;
  const backOff = async (error: unknown) => {
    const waitMs = Math.min(8_000, 500 * 2 ** Math.min(outages++, 10));
    options.log?.('database unavailable: pausing', { workerId: options.workerId, waitMs, error: (error as Error).message });
    await sleep(waitMs, undefined, { signal }).catch(() => undefined);
  };
  while (!signal.aborted) {
    let claimed: ClaimResult;
    try {
      const again = interrupted ? await tryClaim(service, interrupted, options.workerId, options.leaseTtlMs) : null;
      claimed = again?.outcome === 'claimed' ? { claim: again.claim, leasedElsewhere: 0 } : await claimNext(service, options.workerId, options.leaseTtlMs);
      interrupted = null;
    } catch (error) {
      if (!isOutage(error)) throw error;
      await backOff(error);
      continue;
    }
    const { claim, leasedElsewhere } = claimed;
    if (!claim) {
      if (options.exitWhenIdle && leasedElsewhere === 0) break;
      await sleep(options.pollMs, undefined, { signal }).catch(() => undefined);
      continue;
    }
    options.log?.('claimed', { experimentId: claim.experimentId, workerId: options.workerId, tookOverFrom: claim.tookOver });
    try {
      await runner(claim.experimentId, claim.experiment, { workerId: options.workerId, leaseTtlMs: options.leaseTtlMs, signal });
      ran.push(claim.experimentId);
      outages = 0;
      options.log?.('finished', { experimentId: claim.experimentId });
    } catch (error) {
      if (signal.aborted) break;
      if (isOutage(error)) {
        interrupted = claim.experimentId;
        await backOff(error);
        continue;
      }
      // A lost lease (expired while we were stalled) is another worker's experiment now.
      options.log?.('run stopped', { experimentId: claim.experimentId, error: (error as Error).message });
      const lease = (await service.projections.current(claim.experimentId).catch(() => null))?.status.lease;
      if (lease?.workerId === options.workerId) await service.releaseLease(claim.experimentId, lease.leaseId).catch(() => undefined);
      await sleep(options.pollMs, undefined, { signal }).catch(() => undefined);
    }
  }
  return ran;
}
