/** What a search returns, and the one ranking of its candidates. */
import type { StrategyName } from './config.js';

export interface CandidateResult {
  readonly candidate: number;
  readonly architecture: number[];
  readonly top1: number;
  readonly top5: number | null;
  readonly loss: number;
  readonly flops: number;
  readonly params: number;
}

export interface SearchOutcome {
  readonly searchId: string;
  readonly strategy: StrategyName;
  /** every full evaluation, in order */
  readonly evaluated: CandidateResult[];
  readonly best: CandidateResult;
  /** the top `topK` by top-1 (ties: earlier candidate first) */
  readonly top: CandidateResult[];
  readonly validationBatchEvaluations: number;
  /** fewer than K candidates were possible (the window or the space ran out) */
  readonly exhausted: boolean;
  /** events produced, including the replayed prefix */
  readonly events: number;
}

/** Ranking used by every strategy: top-1 descending, earlier candidate first on ties. */
export function rankCandidates<C extends { readonly top1: number; readonly candidate: number }>(results: readonly C[]): C[] {
  return [...results].sort((a, b) => b.top1 - a.top1 || a.candidate - b.candidate);
}
