import type { ExperimentService } from '../../src/experiments/experiment-service.js';
import type { CandidateEvaluator } from '../../src/search/evaluator.js';

/** A tiny space: 3 layers of 2 ops, 8 architectures, keys of 3 digits. */
export const tinySpace = {
  name: 'tiny',
  input: { size: 8, channels: 1 },
  stem: { channels: 4, kernel: 3, stride: 1 },
  layers: Array.from({ length: 3 }, () => ({ channels: 4, stride: 1, ops: [{ type: 'identity' }, { type: 'mbconv', kernel: 3, expansion: 1, se: false }] })),
  head: { channels: 8, classes: 10 },
};

export const tinyRequest = {
  name: 'ranking-spec',
  searchSpace: tinySpace,
  schedule: { stepsPerEpoch: 10, warmupSteps: 4, treeBuildingSteps: 4, mctSteps: 4 },
  dataset: { kind: 'synthetic' },
  seed: 5,
};

/**
 * The hand-made table: stand-alone accuracies with one tie, and what the supernet says of the
 * same five architectures. Pairs (i < j) by hand: (0,1) and (2,3) discordant, (1,2) tied in
 * the stand-alone column, the other 7 concordant: tau-b = (7 - 2) / sqrt((10 - 1) * 10).
 * (tau-a, without the tie correction, would be 0.5.) Spearman: average ranks 1, 2.5, 2.5, 4, 5
 * against 2, 1, 4, 3, 5: rho = 6.5 / sqrt(9.5 * 10).
 */
export const handMadeTable = {
  name: 'hand-made',
  sha256: null,
  rows: [
    { key: '000', top1: 81 },
    { key: '001', top1: 82 },
    { key: '010', top1: 82 },
    { key: '011', top1: 84 },
    { key: '111', top1: 85 },
  ],
};
export const handMadeSupernetTop1: Readonly<Record<string, number>> = { '000': 52, '001': 51, '010': 54, '011': 53, '111': 55 };
export const HAND_MADE_TAU = 5 / Math.sqrt(90);
export const HAND_MADE_RHO = 6.5 / Math.sqrt(95);

/** The supernet of the hand-made table (a full validation answers its accuracy). */
export const handMadeSupernet: CandidateEvaluator = {
  validationBatchLoss: () => 1,
  fullValidation: (architecture) => ({ top1: handMadeSupernetTop1[architecture.join('')]!, top5: null, loss: 1 }),
};

/** The ranking analysis of the hand-made table (top-1, 2 and 3 overlaps). */
export const handMadeAnalysis = {
  analysisId: 'hand-made',
  table: handMadeTable,
  evaluator: handMadeSupernet,
  evaluation: { bnRecalibrationBatches: 0, validationImages: 100 },
  topK: [1, 2, 3],
};

/** A tiny experiment trained to the end through ask/tell. */
export async function trainedTiny(service: ExperimentService, id: string): Promise<void> {
  await service.create(tinyRequest, { id });
  const lease = await service.acquireLease(id, 'w1', 600_000);
  for (let s = await service.ask(id, lease.leaseId); s; s = await service.ask(id, lease.leaseId)) {
    await service.tell(id, lease.leaseId, s.step, 2 - s.architecture.reduce((a, b) => a + b, 0) * 0.1);
  }
}
