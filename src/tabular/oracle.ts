/**
 * The oracle trainer: a lookup table standing in for the GPU. It plays the supernet trainer's
 * role (the `StepTrainer` the stream-driven worker drives; the tabular runner drives the same
 * ask/tell commands) and answers the search's questions, through a documented supernet-proxy
 * model:
 *
 *   proxy loss of a            L0(a) = -ln(acc_p(a) / 100)        acc_p: accuracy column `proxySeed`
 *   one-batch loss (training   L(a)  = L0(a) * exp(noise * z)      z ~ N(0, 1), a fresh draw per
 *   step or validation batch)                                      step / validation batch
 *   full validation top-1      acc_v(a) + validationNoise * z'     acc_v: column `validationSeed`,
 *                                                                   z' fixed per architecture
 *
 * Why this shape. The loss follows one training run's accuracy, so the supernet ranks
 * architectures like one from-scratch training would, seed-to-seed differences included, not
 * like the mean it is judged against. The noise is multiplicative (log-normal) so a loss is
 * always positive and its spread scales with it like a batch estimate of an error rate does;
 * `noise` is that relative standard deviation. Default 0.2: the relative sampling error of an
 * error rate p measured on one batch of B = 256 images, sqrt((1 - p) / (B p)), is 0.20-0.23 at
 * CIFAR-10 error rates of 7-9 %. Full validation reads another training run (a different seed)
 * plus noise fixed per architecture (re-validating the same weights gives the same number);
 * default 0.25 points, the binomial standard error of an accuracy near 93 % on 10,000 images.
 * Accuracies are clamped into [0.01, 99.99] % for the losses so they stay finite and positive.
 *
 * Determinism: every draw is rngFor(seed, counter, purpose): the training step, the
 * validation-batch index, or the architecture's row. The oracle keeps no state, so a resumed
 * run answers exactly what the uninterrupted run would have answered.
 */
import { z } from 'zod';
import { DomainError } from '../kernel/domain-error.js';
import { parseOrThrow } from '../kernel/parse.js';
import { rngFor } from '../random/counter-rng.js';
import type { Architecture } from '../search-space/definition.js';
import type { CandidateEvaluator, FullValidationResult } from '../search/evaluator.js';
import type { StepTrainer } from '../training/step-trainer.js';
import { kendallTau } from '../analysis/rank-correlation.js';
import type { AccuracyTable } from './table.js';

export const proxyModelSchema = z
  .object({
    /** relative standard deviation of a one-batch loss */
    noise: z.number().min(0).max(5),
    /** accuracy column the supernet's losses follow */
    proxySeed: z.number().int().nonnegative(),
    /** accuracy column full validation reads */
    validationSeed: z.number().int().nonnegative(),
    /** standard deviation of a full-validation accuracy, in percentage points */
    validationNoise: z.number().min(0).max(100),
  })
  .strict();
export type ProxyModel = z.infer<typeof proxyModelSchema>;

/** The defaults argued in the file comment; full validation reads a second seed when there is one. */
export function defaultProxyModel(table: AccuracyTable): ProxyModel {
  return { noise: 0.2, proxySeed: 0, validationSeed: table.seeds > 1 ? 1 : 0, validationNoise: 0.25 };
}

/** RNG purposes (part of the determinism contract: never rename). */
export const ORACLE_PURPOSE = {
  train: 'oracle:train-batch',
  validation: 'oracle:validation-batch',
  full: 'oracle:full-validation',
  kendall: 'oracle:kendall',
} as const;

export class OracleTrainer implements StepTrainer {
  readonly backend = { backend: 'oracle', skipped: [] };

  constructor(
    readonly table: AccuracyTable,
    readonly seed: number,
    readonly proxy: ProxyModel,
  ) {
    parseOrThrow(proxyModelSchema, proxy, { root: 'proxy', code: 'ProxyModelError' });
    for (const key of ['proxySeed', 'validationSeed'] as const) {
      if (proxy[key] >= table.seeds) {
        throw new DomainError('invalid', 'ProxyModelError', `${proxy[key]} is not an accuracy column of ${table.name} (0..${table.seeds - 1})`, `proxy.${key}`);
      }
    }
  }

  /** The noise-free proxy loss L0. */
  proxyLoss(architecture: Architecture): number {
    return lossOf(this.table.accuracy(architecture, this.proxy.proxySeed));
  }

  async trainStep(step: number, architecture: Architecture): Promise<number> {
    return this.batchLoss(architecture, step, ORACLE_PURPOSE.train);
  }

  evaluator(): CandidateEvaluator {
    return {
      // One draw per (batch, architecture): the same batch gives the same architecture the same
      // loss (same weights, same data), another architecture on it its own batch error.
      validationBatchLoss: (architecture, batch) => this.batchLoss(architecture, batch * this.table.size + this.table.rowOf(architecture), ORACLE_PURPOSE.validation),
      fullValidation: (architecture): FullValidationResult => {
        const z = normal(this.seed, this.table.rowOf(architecture), ORACLE_PURPOSE.full);
        const top1 = Math.min(100, Math.max(0, this.table.accuracy(architecture, this.proxy.validationSeed) + this.proxy.validationNoise * z));
        return { top1, top5: null, loss: lossOf(top1) };
      },
    };
  }

  /**
   * Kendall tau-b against the ground truth over every architecture of the table: of one
   * batch loss per architecture (what a single noisy evaluation ranks like), and of the
   * noise-free proxy loss (the ceiling that averaging many batches approaches).
   */
  kendallTau(): { oneBatch: number; noiseFree: number } {
    const truth = new Float64Array(this.table.size);
    const oneBatch = new Float64Array(this.table.size);
    const noiseFree = new Float64Array(this.table.size);
    for (let row = 0; row < this.table.size; row++) {
      const architecture = this.table.architectureAt(row);
      truth[row] = this.table.truthAt(row);
      oneBatch[row] = -this.batchLoss(architecture, row, ORACLE_PURPOSE.kendall);
      noiseFree[row] = -this.proxyLoss(architecture);
    }
    return { oneBatch: kendallTau(oneBatch, truth), noiseFree: kendallTau(noiseFree, truth) };
  }

  /** Stateless: every loss is a function of (seed, step, architecture). */
  saveState(): Uint8Array {
    return new Uint8Array(0);
  }

  loadState(): void {}

  dispose(): void {}

  private batchLoss(architecture: Architecture, counter: number, purpose: string): number {
    return this.proxyLoss(architecture) * Math.exp(this.proxy.noise * normal(this.seed, counter, purpose));
  }
}

function lossOf(accuracy: number): number {
  return -Math.log(Math.min(99.99, Math.max(0.01, accuracy)) / 100);
}

/** A standard normal draw (Box-Muller) from the stream (seed, counter, purpose). */
function normal(seed: number, counter: number, purpose: string): number {
  const rng = rngFor(seed, counter, purpose);
  const u = 1 - rng.next(); // (0, 1]: the logarithm stays finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
