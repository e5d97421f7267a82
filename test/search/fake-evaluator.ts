/** A deterministic fake supernet for search tests. */
import { uniformAt } from '../../src/random/counter-rng.js';
import type { Architecture } from '../../src/search-space/definition.js';
import type { CandidateEvaluator, FullValidationResult } from '../../src/search/evaluator.js';

/** Quality in [0, 1) of an architecture: a fixed pseudo-random function of its ops. */
export function quality(arch: Architecture): number {
  let q = 0;
  for (let l = 0; l < arch.length; l++) q += ((arch[l]! * 5 + l * 7 + arch[l]! * l) % 11) / 11;
  return q / arch.length;
}

/**
 * Validation-batch loss = 2 - quality + noise(evaluation); full validation top-1 = 60 + 35 * quality.
 * Counts its calls.
 */
export function fakeEvaluator(seed: number): CandidateEvaluator & { batchCalls: Architecture[]; fullCalls: Architecture[] } {
  const batchCalls: Architecture[] = [];
  const fullCalls: Architecture[] = [];
  return {
    batchCalls,
    fullCalls,
    validationBatchLoss(arch: Architecture, evaluation: number): number {
      batchCalls.push([...arch]);
      return 2 - quality(arch) + 0.2 * uniformAt(seed, evaluation, 'fake:batch', 0);
    },
    async fullValidation(arch: Architecture): Promise<FullValidationResult> {
      fullCalls.push([...arch]);
      await Promise.resolve();
      const q = quality(arch);
      return { top1: 60 + 35 * q, top5: 90 + 5 * q, loss: 1.5 - q };
    },
  };
}
