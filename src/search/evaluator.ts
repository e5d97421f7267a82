/**
 * What a search asks of the supernet: the one port between the search strategies and a
 * trainer (the TensorFlow.js supernet, the tabular oracle, a replay of recorded answers).
 */
import type { Architecture } from '../search-space/definition.js';

export interface FullValidationResult {
  /** top-1 accuracy in percent */
  readonly top1: number;
  readonly top5: number | null;
  readonly loss: number;
}

/**
 * Answers a search's questions about the supernet. BatchNorm recalibration before a full
 * validation is the evaluator's job.
 */
export interface CandidateEvaluator {
  /**
   * Loss of `architecture` on validation batch `batch`, with the training criterion (label
   * smoothing included). The search asks `updateDataFreq` consecutive evaluations on one batch
   * (batch = floor(evaluation / updateDataFreq)), so the same (architecture, batch) must give
   * the same loss.
   */
  validationBatchLoss(architecture: Architecture, batch: number): Promise<number> | number;
  /** top-1 (and top-5) accuracy and loss on the full validation split; `candidate` is its index */
  fullValidation(architecture: Architecture, candidate: number): Promise<FullValidationResult> | FullValidationResult;
}
