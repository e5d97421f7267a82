/**
 * How well a supernet ranks architectures: its accuracy estimates of a sample of architectures
 * against their stand-alone (trained from scratch) accuracies. Pure: numbers in, numbers out.
 */
import { jackknifeStandardError, kendallNullStandardError, kendallTau, spearmanRho, topKOverlap } from './rank-correlation.js';

export interface RankingReport {
  readonly n: number;
  /** Kendall tau-b, supernet vs stand-alone */
  readonly kendallTau: number;
  /** jackknife standard error of tau (leave one architecture out) */
  readonly kendallTauStandardError: number;
  /** standard deviation of tau for n unrelated items (what chance alone gives) */
  readonly kendallTauNullStandardError: number;
  readonly spearmanRho: number;
  readonly spearmanRhoStandardError: number;
  /** fraction of the stand-alone top k that the supernet also puts in its top k, per k */
  readonly topKOverlap: readonly { readonly k: number; readonly overlap: number }[];
}

/** `truth[i]` and `estimate[i]` describe the same architecture i; higher is better. */
export function rankingReport(truth: readonly number[], estimate: readonly number[], ks: readonly number[]): RankingReport {
  if (truth.length !== estimate.length) throw new RangeError(`truth has ${truth.length} values, estimate ${estimate.length}`);
  const n = truth.length;
  if (n < 3) throw new RangeError(`a ranking needs at least 3 architectures, got ${n}`);
  return {
    n,
    kendallTau: kendallTau(truth, estimate),
    kendallTauStandardError: jackknifeStandardError(truth, estimate, kendallTau),
    kendallTauNullStandardError: kendallNullStandardError(n),
    spearmanRho: spearmanRho(truth, estimate),
    spearmanRhoStandardError: jackknifeStandardError(truth, estimate, spearmanRho),
    topKOverlap: ks.filter((k) => k <= n).map((k) => ({ k, overlap: topKOverlap(truth, estimate, k) })),
  };
}

/** Mean and sample standard deviation (n - 1; 0 for a single value). */
export function meanAndStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}
