/**
 * How well a supernet ranks architectures: its accuracy estimates of a sample of architectures
 * against their stand-alone (trained from scratch) accuracies, and what a search that fully
 * evaluates K candidates of that sample would pick. Pure: numbers in, numbers out.
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

/** log C(n, k) */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) s += Math.log(n - i) - Math.log(i + 1);
  return s;
}

export interface SearchNumberPoint {
  readonly k: number;
  /** E[stand-alone accuracy of the candidate with the best supernet accuracy] */
  readonly chosenTruth: number;
  /** E[supernet accuracy of that candidate] */
  readonly chosenEstimate: number;
  /** E[best stand-alone accuracy among the candidates] (a perfect ranker's pick) */
  readonly bestTruth: number;
}

/**
 * The search-number curve over a sample: K candidates drawn uniformly without replacement from
 * the n architectures, the one with the highest supernet accuracy chosen. Exact expectations
 * over all C(n, K) draws: the item in place i (0-based) of an order is the first of a draw with
 * probability C(n - 1 - i, K - 1) / C(n, K). Ties in the estimate are broken by index (first
 * wins), ties in the truth do not matter.
 */
export function searchNumberCurve(truth: readonly number[], estimate: readonly number[], ks: readonly number[]): SearchNumberPoint[] {
  if (truth.length !== estimate.length) throw new RangeError(`truth has ${truth.length} values, estimate ${estimate.length}`);
  const n = truth.length;
  const index = Array.from({ length: n }, (_, i) => i);
  const bySupernet = [...index].sort((a, b) => estimate[b]! - estimate[a]! || a - b);
  const byTruth = [...index].sort((a, b) => truth[b]! - truth[a]! || a - b);
  return ks.map((k) => {
    if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`K must be an integer in [1, ${n}], got ${k}`);
    const total = logChoose(n, k);
    const weight = (place: number) => (n - 1 - place >= k - 1 ? Math.exp(logChoose(n - 1 - place, k - 1) - total) : 0);
    let chosenTruth = 0;
    let chosenEstimate = 0;
    let bestTruth = 0;
    for (let place = 0; place < n; place++) {
      const w = weight(place);
      chosenTruth += w * truth[bySupernet[place]!]!;
      chosenEstimate += w * estimate[bySupernet[place]!]!;
      bestTruth += w * truth[byTruth[place]!]!;
    }
    return { k, chosenTruth, chosenEstimate, bestTruth };
  });
}

/** Mean and sample standard deviation (n - 1; 0 for a single value). */
export function meanAndStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}
