/**
 * A ranking analysis recorded on an experiment (event `RankingAnalysisRecorded`): every
 * architecture of a stand-alone table evaluated on the experiment's supernet, side by side with
 * its stand-alone accuracy, and the ranking report computed from those pairs when it was
 * recorded (Kendall tau-b, Spearman rho, top-k overlap, their standard errors).
 *
 * The event carries the pairs and the report: projections apply the report as stored (a later
 * change of a formula never changes a replayed history), and `rankingReportOf` recomputes it
 * from the pairs on purpose (a what-if, or a check that the record is consistent). Pure.
 */
import { z } from 'zod';
import { DomainError } from '../kernel/domain-error.js';
import { rankingReport } from './ranking.js';

const nonNegInt = z.number().int().nonnegative();
/** a statistic that is undefined for some samples (a constant ranking): null, never NaN */
const statistic = z.number().finite().nullable();
const accuracy = z.number().finite().min(0).max(100);

/** The top-k overlaps reported when the caller names none. */
export const DEFAULT_TOP_K = [3, 5, 10] as const;

export const rankingPairSchema = z.object({
  /** the architecture's key in the experiment's space */
  key: z.string().min(1).max(1000),
  /** stand-alone validation top-1 (percent), from the table */
  standalone: accuracy,
  /** top-1 (percent) on the supernet, BN recalibrated, on the table's validation split */
  supernet: accuracy,
});

export const rankingAnalysisRecordedSchema = z.object({
  analysisId: z.string().min(1).max(200),
  /** the last trained step the supernet had when it was evaluated */
  step: z.number().int().min(-1),
  /** the stand-alone table the supernet is compared with */
  table: z.object({
    name: z.string().min(1).max(200),
    /** sha256 of the table file as read, when it came from a file */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  }),
  /** how each architecture was evaluated on the supernet */
  evaluation: z.object({ bnRecalibrationBatches: nonNegInt, validationImages: nonNegInt }),
  pairs: z.array(rankingPairSchema).min(3).max(10_000),
  report: z.object({
    n: z.number().int().min(3),
    kendallTau: statistic,
    kendallTauStandardError: statistic,
    kendallTauNullStandardError: statistic,
    spearmanRho: statistic,
    spearmanRhoStandardError: statistic,
    topKOverlap: z.array(z.object({ k: z.number().int().positive(), overlap: z.number().min(0).max(1) })),
  }),
});

export type RankingAnalysisRecorded = z.infer<typeof rankingAnalysisRecordedSchema>;
export type RankingPair = z.infer<typeof rankingPairSchema>;
export type StoredRankingReport = RankingAnalysisRecorded['report'];

const orNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

/** The report of `pairs` as the event stores it (undefined statistics as null). */
export function rankingReportOf(pairs: readonly RankingPair[], topK: readonly number[] = DEFAULT_TOP_K): StoredRankingReport {
  const r = rankingReport(
    pairs.map((p) => p.standalone),
    pairs.map((p) => p.supernet),
    topK,
  );
  return {
    n: r.n,
    kendallTau: orNull(r.kendallTau),
    kendallTauStandardError: orNull(r.kendallTauStandardError),
    kendallTauNullStandardError: orNull(r.kendallTauNullStandardError),
    spearmanRho: orNull(r.spearmanRho),
    spearmanRhoStandardError: orNull(r.spearmanRhoStandardError),
    topKOverlap: [...r.topKOverlap],
  };
}

export interface RankingAnalysisInput {
  readonly analysisId: string;
  readonly table: RankingAnalysisRecorded['table'];
  readonly evaluation: RankingAnalysisRecorded['evaluation'];
  readonly pairs: readonly RankingPair[];
  readonly topK?: readonly number[];
}

/**
 * The event recording `input` on a supernet trained up to `step`: at least 3 distinct
 * architectures (a field-naming 422 otherwise), the report computed from the pairs.
 */
export function decideRankingAnalysis(input: RankingAnalysisInput, step: number): RankingAnalysisRecorded {
  if (input.pairs.length < 3) throw new DomainError('unprocessable', 'RankingAnalysisError', `a ranking needs at least 3 architectures, got ${input.pairs.length}`, 'pairs');
  const seen = new Set<string>();
  input.pairs.forEach((p, i) => {
    if (seen.has(p.key)) throw new DomainError('unprocessable', 'RankingAnalysisError', `architecture '${p.key}' appears twice`, `pairs.${i}.key`);
    seen.add(p.key);
  });
  return {
    analysisId: input.analysisId,
    step,
    table: input.table,
    evaluation: input.evaluation,
    pairs: input.pairs.map((p) => ({ key: p.key, standalone: p.standalone, supernet: p.supernet })),
    report: rankingReportOf(input.pairs, input.topK),
  };
}
