import type { Architecture } from '../search-space/definition.js';
import type { CandidateEvaluator } from '../search/evaluator.js';

/**
 * What the stream-driven worker needs from a supernet trainer. The loss of step `t` must be a
 * pure function of (state after step t-1, step t's batch, the architecture, the step's
 * learning rate): that is what makes a resumed run repeat the uninterrupted one exactly.
 */
export interface StepTrainer {
  /** Which compute backend runs (recorded as TrainingBackendSelected). */
  readonly backend: { readonly backend: string; readonly skipped: readonly { readonly backend: string; readonly reason: string }[] };
  /** Trains training step `step` on `architecture` only (single-path weight sharing); returns its loss. */
  trainStep(step: number, architecture: Architecture): Promise<number>;
  /**
   * Everything a resume needs (weights, optimizer state, BN statistics), as bytes: the state
   * after every step asked for before this call (a trainer on another thread answers in order).
   */
  saveState(): Promise<Uint8Array> | Uint8Array;
  loadState(bytes: Uint8Array): Promise<void> | void;
  /** Answers the search's questions (validation-batch loss; BN recalibration + full validation). */
  evaluator(): CandidateEvaluator;
  /** Frees the trainer (and ends its thread, if it has one). */
  dispose(): Promise<void> | void;
}
