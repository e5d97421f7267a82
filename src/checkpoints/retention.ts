/**
 * Checkpoint retention: which recorded checkpoints of an experiment may be deleted. Pure.
 *
 * Options (per training run; recorded in every CheckpointPruned event):
 *   keepLast   the newest N checkpoints are kept            (default 3; null keeps every one)
 *   keepEvery  every checkpoint whose step + 1 is a multiple of K steps is kept for good
 *              (default null: none; e.g. 1000 keeps steps 999, 1999, ... as milestones)
 * Whatever the options, these are never pruned:
 *   - a pinned checkpoint (CheckpointPinned over the API or CLI, until CheckpointUnpinned);
 *   - the newest verified checkpoint (the one a resume would load);
 *   - any checkpoint a running resume or search depends on (`protectedSteps`, e.g. the one
 *     the current run restored from).
 * Before this policy existed every checkpoint was kept; `keepLast: null` restores that.
 */
import { DomainError } from '../kernel/domain-error.js';

export interface RetentionPolicy {
  readonly keepLast: number | null;
  readonly keepEvery: number | null;
}

export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({ keepLast: 3, keepEvery: null });
export const KEEP_ALL: RetentionPolicy = Object.freeze({ keepLast: null, keepEvery: null });

export function retentionPolicy(options: { keepLast?: number | null; keepEvery?: number | null } = {}): RetentionPolicy {
  const keepLast = options.keepLast === undefined ? DEFAULT_RETENTION.keepLast : options.keepLast;
  const keepEvery = options.keepEvery === undefined ? DEFAULT_RETENTION.keepEvery : options.keepEvery;
  if (keepLast !== null && (!Number.isInteger(keepLast) || keepLast < 1)) {
    throw new DomainError('invalid', 'InvalidRetention', `must be a positive integer or null (keep all); got ${keepLast}`, 'keepLast');
  }
  if (keepEvery !== null && (!Number.isInteger(keepEvery) || keepEvery < 1)) {
    throw new DomainError('invalid', 'InvalidRetention', `must be a positive integer or null (no milestones); got ${keepEvery}`, 'keepEvery');
  }
  return { keepLast, keepEvery };
}

export interface RetainedCheckpoint {
  readonly step: number;
  readonly location: string;
}

export interface PruneDecision {
  readonly step: number;
  readonly location: string;
  readonly reason: string;
}

/**
 * The checkpoints to prune, oldest first. `live` are the recorded, not yet pruned checkpoints
 * in save order; `newestVerifiedStep` is the one just written and verified (null: none yet, and
 * then nothing is pruned: without a verified newest one every older one may be the fallback).
 */
export function planPruning(
  live: readonly RetainedCheckpoint[],
  policy: RetentionPolicy,
  guards: { readonly pinned: ReadonlySet<number>; readonly newestVerifiedStep: number | null; readonly protectedSteps?: ReadonlySet<number> },
): PruneDecision[] {
  if (policy.keepLast === null || guards.newestVerifiedStep === null) return [];
  const steps = [...new Set(live.map((c) => c.step))].sort((a, b) => b - a);
  const newest = new Set(steps.slice(0, policy.keepLast));
  const out: PruneDecision[] = [];
  for (const c of [...live].sort((a, b) => a.step - b.step)) {
    if (newest.has(c.step) || c.step >= guards.newestVerifiedStep) continue;
    if (guards.pinned.has(c.step) || guards.protectedSteps?.has(c.step)) continue;
    if (policy.keepEvery !== null && (c.step + 1) % policy.keepEvery === 0) continue;
    out.push({ step: c.step, location: c.location, reason: `older than the newest ${policy.keepLast}${policy.keepEvery !== null ? `, not a multiple of ${policy.keepEvery} steps` : ''}, not pinned` });
  }
  return out;
}
