/**
 * The ranking analysis of a trained experiment: every architecture of a stand-alone table
 * evaluated on the experiment's supernet the way the search evaluates a candidate (the
 * evaluator recalibrates BatchNorm and validates on the whole split), recorded as one
 * RankingAnalysisRecorded event. The edge between the evaluator port and the event store,
 * whatever the trainer (TensorFlow.js supernet, an external one's answers, a test's table).
 *
 * Idempotent by `analysisId`: an analysis already recorded is returned as recorded, without
 * evaluating anything again.
 */
import type { RankingAnalysisRecorded } from '../analysis/ranking-analysis.js';
import type { CandidateEvaluator } from '../search/evaluator.js';
import type { ExperimentService } from './experiment-service.js';
import type { RankingAnalysis } from './experiment-status.js';

export interface StandaloneTable {
  readonly name: string;
  /** sha256 of the file the rows were read from (null: not from a file) */
  readonly sha256: string | null;
  readonly rows: readonly { readonly key: string; readonly top1: number }[];
}

export interface RankingRunOptions {
  readonly analysisId: string;
  readonly table: StandaloneTable;
  readonly evaluator: CandidateEvaluator;
  readonly evaluation: RankingAnalysisRecorded['evaluation'];
  readonly topK?: readonly number[];
  readonly workerId?: string;
  readonly signal?: AbortSignal;
  readonly onEvaluated?: (done: number, total: number) => void;
}

/** The analysis `analysisId` of the experiment as recorded, or null. */
export async function recordedRanking(service: ExperimentService, experimentId: string, analysisId: string): Promise<RankingAnalysis | null> {
  const view = await service.projections.current(experimentId);
  return view.status.rankingAnalyses.find((a) => a.analysisId === analysisId) ?? null;
}

/** Evaluates the table's architectures on the supernet and records the analysis; null when stopped early. */
export async function analyseRanking(service: ExperimentService, experimentId: string, options: RankingRunOptions): Promise<RankingAnalysis | null> {
  const existing = await recordedRanking(service, experimentId, options.analysisId);
  if (existing) return existing;
  const space = service.space(await service.projections.current(experimentId));
  const pairs = [];
  for (const [i, row] of options.table.rows.entries()) {
    if (options.signal?.aborted) return null;
    const { top1 } = await options.evaluator.fullValidation(space.decode(row.key), i);
    pairs.push({ key: row.key, standalone: row.top1, supernet: top1 });
    options.onEvaluated?.(i + 1, options.table.rows.length);
  }
  await service.recordRankingAnalysis(
    experimentId,
    { analysisId: options.analysisId, table: { name: options.table.name, sha256: options.table.sha256 }, evaluation: options.evaluation, pairs, topK: options.topK },
    options.workerId,
  );
  return recordedRanking(service, experimentId, options.analysisId);
}
