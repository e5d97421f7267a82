/**
 * BatchNorm statistics: the running mean and variance of every BN of the supernet, how a
 * forward pass normalises (with the batch's statistics while training and recalibrating, with
 * the running ones for inference), their PyTorch-style update during training, and the
 * re-estimation the authors run before evaluating a candidate.
 */
import type { Architecture } from '../search-space/definition.js';
import { activate, batchNormInfer, batchNormTrain, type BatchStatistics } from './layers.js';
import type { LabelledBatch, NormFn, ParameterValues, SupernetModel } from './supernet-model.js';
import { tf, type Tensor, type Tensor1D } from './tf.js';

const RUNNING_MEAN = 'running_mean';
const RUNNING_VAR = 'running_var';

export class BatchNormStatistics {
  /** `<bn prefix>.running_mean|running_var`, in the model's BN order (the checkpoint order). */
  private readonly running = new Map<string, Tensor1D>();

  constructor(
    norms: ReadonlyMap<string, number>,
    /** weight of the new batch in the running averages during training (PyTorch default 0.1) */
    private readonly momentum: number,
    private readonly epsilon: number,
  ) {
    for (const [prefix, c] of norms) {
      this.running.set(`${prefix}.${RUNNING_MEAN}`, tf.zeros([c]));
      this.running.set(`${prefix}.${RUNNING_VAR}`, tf.ones([c]));
    }
  }

  /** BN with batch statistics; `collect` receives each BN's statistics (kept: the caller disposes them). */
  batchNorm(p: ParameterValues, collect: (prefix: string, stats: BatchStatistics) => void): NormFn {
    return (x, prefix, act) => {
      const fuse = act === 'relu';
      const y = batchNormTrain(x, p(`${prefix}.gamma`) as Tensor1D, p(`${prefix}.beta`) as Tensor1D, this.epsilon, fuse, (stats) => {
        collect(prefix, { mean: tf.keep(stats.mean), variance: tf.keep(stats.variance), count: stats.count });
      });
      return act === null || fuse ? y : activate(y, act);
    };
  }

  /** BN with the running statistics. */
  inference(p: ParameterValues): NormFn {
    return (x, prefix, act) => {
      const y = batchNormInfer(
        x,
        p(`${prefix}.gamma`) as Tensor1D,
        p(`${prefix}.beta`) as Tensor1D,
        this.running.get(`${prefix}.${RUNNING_MEAN}`)!,
        this.running.get(`${prefix}.${RUNNING_VAR}`)!,
        this.epsilon,
      );
      return act === null ? y : activate(y, act);
    };
  }

  /** PyTorch's running averages after a training batch: new = (1 - momentum) old + momentum batch. */
  update(prefix: string, s: BatchStatistics): void {
    const meanName = `${prefix}.${RUNNING_MEAN}`;
    const varName = `${prefix}.${RUNNING_VAR}`;
    const oldMean = this.running.get(meanName)!;
    const oldVar = this.running.get(varName)!;
    const m = this.momentum;
    const unbiased = unbiasedVariance(s);
    this.running.set(meanName, tf.keep(tf.add(tf.mul(oldMean, 1 - m), tf.mul(s.mean, m))));
    this.running.set(varName, tf.keep(tf.add(tf.mul(oldVar, 1 - m), tf.mul(unbiased, m))));
    oldMean.dispose();
    oldVar.dispose();
  }

  /**
   * Re-estimates the running statistics of every BN on the path as the plain average of its
   * batch statistics over `batches` (PyTorch's cumulative average, momentum None), as the authors
   * do before evaluating a candidate. Weights and momentum are untouched.
   */
  recalibrate(model: SupernetModel, arch: Architecture, batches: Iterable<LabelledBatch>): void {
    model.checkArchitecture(arch);
    const sums = new Map<string, { mean: Tensor1D; variance: Tensor1D }>();
    let count = 0;
    for (const batch of batches) {
      tf.tidy(() => {
        const x = model.inputTensor(batch);
        const collect = (prefix: string, s: BatchStatistics): void => {
          const previous = sums.get(prefix);
          const unbiased = unbiasedVariance(s);
          const next = {
            mean: tf.keep(previous === undefined ? tf.clone(s.mean) : tf.add<Tensor1D>(previous.mean, s.mean)),
            variance: tf.keep(previous === undefined ? unbiased : tf.add<Tensor1D>(previous.variance, unbiased)),
          };
          if (previous !== undefined) tf.dispose([previous.mean, previous.variance]);
          tf.dispose([s.mean, s.variance]);
          sums.set(prefix, next);
        };
        model.forward(arch, x, this.batchNorm(model.current, collect), model.current);
      });
      count++;
    }
    if (count === 0) throw new Error('recalibrateBatchNorm needs at least one batch');
    for (const [prefix, s] of sums) {
      this.replace(`${prefix}.${RUNNING_MEAN}`, tf.div(s.mean, count));
      this.replace(`${prefix}.${RUNNING_VAR}`, tf.div(s.variance, count));
      tf.dispose([s.mean, s.variance]);
    }
  }

  /** A running statistic by its full name, or undefined. */
  value(name: string): Tensor1D | undefined {
    return this.running.get(name);
  }

  entries(): IterableIterator<[string, Tensor1D]> {
    return this.running.entries();
  }

  /** Replaces every statistic (shapes already checked), keeping the BN order. */
  load(values: ReadonlyMap<string, Tensor1D>): void {
    const names = [...this.running.keys()];
    this.dispose();
    for (const name of names) this.running.set(name, values.get(name)!);
  }

  dispose(): void {
    tf.dispose([...this.running.values()]);
    this.running.clear();
  }

  private replace(name: string, value: Tensor): void {
    this.running.get(name)!.dispose();
    this.running.set(name, value as Tensor1D);
  }
}

/** Running variances use the unbiased batch variance, as PyTorch does. */
function unbiasedVariance(s: BatchStatistics): Tensor1D {
  return tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
}
