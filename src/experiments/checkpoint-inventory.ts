/**
 * What an experiment's checkpoints look like to a user (API and CLI): every checkpoint ever
 * saved with its size, hash, when it was verified, whether it is pinned, retained or pruned
 * (and why), plus the bytes the retained ones occupy and a pending storage failure. Pure.
 */
import type { EventData } from '../events/catalog.js';
import type { ExperimentStatus } from './experiment-status.js';

export interface CheckpointEntry {
  readonly step: number;
  readonly epoch: number;
  readonly location: string;
  readonly store: string | null;
  readonly sha256: string;
  readonly size: number;
  readonly streamPosition: number;
  /** when the stored bytes were read back and their sha256 checked (null: recorded before v2) */
  readonly verifiedAt: string | null;
  readonly pinned: boolean;
  /** false once the retention policy pruned it (its file is gone) */
  readonly retained: boolean;
  readonly pruned: { readonly reason: string; readonly policy: EventData<'CheckpointPruned'>['policy'] } | null;
}

export interface CheckpointInventory {
  readonly checkpoints: CheckpointEntry[];
  readonly newest: CheckpointEntry | null;
  readonly retained: number;
  readonly retainedBytes: number;
  readonly pruned: number;
  readonly prunedBytes: number;
  /** the checkpoint write that is failing now (full disk...), null when the last one succeeded */
  readonly failure: EventData<'CheckpointWriteFailed'> | null;
}

export function checkpointInventory(status: ExperimentStatus): CheckpointInventory {
  const retained = new Map(status.retainedCheckpoints.map((c) => [c.step, c]));
  const prunedAt = new Map(status.prunedCheckpoints.map((p) => [p.step, p]));
  const pinned = new Set(status.pinnedCheckpoints);
  // One entry per step: a step saved again after a restore shows its latest record.
  const latest = new Map<number, EventData<'CheckpointSaved'>>();
  for (const c of status.checkpoints) latest.set(c.step, c);
  const checkpoints = [...latest.values()]
    .sort((a, b) => a.step - b.step)
    .map((c): CheckpointEntry => {
      const kept = retained.has(c.step);
      const pruned = kept ? null : (prunedAt.get(c.step) ?? null);
      return {
        step: c.step,
        epoch: c.epoch,
        location: c.location,
        store: c.store ?? null,
        sha256: c.sha256,
        size: c.size,
        streamPosition: c.streamPosition,
        verifiedAt: c.verifiedAt ?? null,
        pinned: pinned.has(c.step),
        retained: kept,
        pruned: pruned && { reason: pruned.reason, policy: pruned.policy },
      };
    });
  const kept = checkpoints.filter((c) => c.retained);
  const gone = checkpoints.filter((c) => !c.retained);
  return {
    checkpoints,
    newest: kept.at(-1) ?? null,
    retained: kept.length,
    retainedBytes: kept.reduce((a, c) => a + c.size, 0),
    pruned: gone.length,
    prunedBytes: gone.reduce((a, c) => a + c.size, 0),
    failure: status.checkpointFailure,
  };
}
