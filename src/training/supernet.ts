/**
 * The weight-sharing supernet trained one sampled path at a time: it composes the model
 * (parameters and forward pass, supernet-model.ts), the name-keyed SGD momentum optimizer
 * (sgd-momentum.ts), the BatchNorm statistics (batch-norm-statistics.ts) and the checkpoint
 * codec (supernet-checkpoint.ts). Only the sampled path runs forward and backward, and only its
 * variables are updated.
 */
import type { Architecture, SearchSpaceDefinition } from '../search-space/definition.js';
import { BatchNormStatistics } from './batch-norm-statistics.js';
import { smoothedCrossEntropy, type BatchStatistics } from './layers.js';
import { SgdMomentum } from './sgd-momentum.js';
import { decodeSupernetInto, encodeSupernet, type SupernetParts } from './supernet-checkpoint.js';
import { SupernetModel, type LabelledBatch } from './supernet-model.js';
import { tf, type Tensor } from './tf.js';

export type { LabelledBatch } from './supernet-model.js';

export interface SupernetOptions {
  /** Seeds the initial weights (see init.ts). */
  readonly seed: number;
  /** SGD momentum (default 0.9). */
  readonly momentum?: number;
  /**
   * Coupled (PyTorch SGD) L2 weight decay on convolution and linear weights (default 0). BN
   * parameters and biases are exempt, as in most supernet code (e.g. SPOS): they are few, and
   * decaying them only pulls the normalised activations towards zero.
   */
  readonly weightDecay?: number;
  /** Label smoothing of the training loss (default 0; the ImageNet recipe uses 0.1). */
  readonly labelSmoothing?: number;
  /** Weight of the new batch in BN running averages during training (PyTorch default 0.1). */
  readonly bnMomentum?: number;
  /** BN epsilon (PyTorch default 1e-5). */
  readonly bnEpsilon?: number;
}

export interface EvaluationResult {
  /** Mean cross-entropy (no label smoothing) over the batch. */
  readonly loss: number;
  /** Mean training criterion over the batch: cross-entropy with the supernet's label smoothing (= loss without smoothing). */
  readonly criterionLoss: number;
  /** Samples whose label scores higher than every other class. */
  readonly correct: number;
  /** Samples whose label is outscored by fewer than 5 classes. */
  readonly top5Correct: number;
  readonly count: number;
}

export class Supernet {
  readonly space: SearchSpaceDefinition;
  private readonly labelSmoothing: number;
  private readonly model: SupernetModel;
  private readonly optimizer: SgdMomentum;
  private readonly statistics: BatchNormStatistics;

  constructor(space: SearchSpaceDefinition, options: SupernetOptions) {
    this.space = space;
    this.labelSmoothing = options.labelSmoothing ?? 0;
    this.model = new SupernetModel(space, options.seed);
    this.optimizer = new SgdMomentum(options.momentum ?? 0.9, options.weightDecay ?? 0);
    this.statistics = new BatchNormStatistics(this.model.batchNorms, options.bnMomentum ?? 0.1, options.bnEpsilon ?? 1e-5);
  }

  /** Every trainable variable, in construction order. */
  get variableNames(): string[] {
    return this.model.variableNames;
  }

  variableShape(name: string): readonly number[] {
    return this.model.variableShape(name);
  }

  /** Trainable parameters of the whole supernet (weights of every op of every layer). */
  get parameterCount(): number {
    return this.model.parameterCount;
  }

  /** The variables one architecture uses, in forward order. */
  pathVariableNames(arch: Architecture): string[] {
    return this.model.pathVariableNames(arch);
  }

  /** Trainable parameters of the stand-alone network `arch` (as PyTorch counts them). */
  pathParameterCount(arch: Architecture): number {
    return this.model.pathParameterCount(arch);
  }

  /** Current values of a variable or BN running statistic (a copy). */
  read(name: string): Float32Array {
    const t = this.model.value(name) ?? this.statistics.value(name);
    if (t === undefined) throw new Error(`no variable ${name}`);
    return t.dataSync() as Float32Array;
  }

  /**
   * One SGD step on the path `arch`: forward with batch statistics, backward, momentum update of
   * the path's variables, BN running averages updated. Returns the (label-smoothed) loss.
   */
  trainStep(arch: Architecture, images: Float32Array, labels: Int32Array, lr: number): number {
    const names = this.model.pathVariableNames(arch);
    const index = new Map(names.map((n, i) => [n, i]));
    const stats: [string, BatchStatistics][] = [];
    const loss = tf.tidy(() => {
      const x = this.model.inputTensor({ images, labels });
      const y = tf.tensor1d(labels, 'int32');
      const f = (...ws: Tensor[]): Tensor => {
        const p = (name: string): Tensor => ws[index.get(name)!]!;
        const logits = this.model.forward(arch, x, this.statistics.batchNorm(p, (prefix, s) => stats.push([prefix, s])), p);
        return smoothedCrossEntropy(logits, y, this.labelSmoothing);
      };
      const { value, grads } = tf.valueAndGrads(f)(names.map((n) => this.model.current(n)));
      names.forEach((name, i) => {
        this.model.replace(name, this.optimizer.step(name, this.model.current(name), grads[i]!, lr, this.model.decays(name)));
      });
      for (const [prefix, s] of stats) this.statistics.update(prefix, s);
      return value;
    });
    for (const [, s] of stats) tf.dispose([s.mean, s.variance]);
    const value = loss.dataSync()[0]!;
    loss.dispose();
    return value;
  }

  /** Inference with BN running statistics. */
  evaluateBatch(arch: Architecture, images: Float32Array, labels: Int32Array): EvaluationResult {
    this.model.checkArchitecture(arch);
    const logitsTensor = tf.tidy(() =>
      this.model.forward(arch, this.model.inputTensor({ images, labels }), this.statistics.inference(this.model.current), this.model.current),
    );
    const logits = logitsTensor.dataSync();
    logitsTensor.dispose();
    return classificationResult(logits, labels, this.space.head.classes, this.labelSmoothing);
  }

  /** See BatchNormStatistics.recalibrate: the authors' BN re-estimation before an evaluation. */
  recalibrateBatchNorm(arch: Architecture, batches: Iterable<LabelledBatch>): void {
    this.statistics.recalibrate(this.model, arch, batches);
  }

  /** Parameters, BN running statistics and momentum buffers in the checkpoint format. */
  saveWeights(): Buffer {
    return encodeSupernet(this.parts());
  }

  /** Replaces all state with a saveWeights() image of a supernet over the same space. */
  loadWeights(buf: Buffer): void {
    decodeSupernetInto(buf, this.parts());
  }

  private parts(): SupernetParts {
    return { model: this.model, statistics: this.statistics, optimizer: this.optimizer };
  }

  /** Frees every tensor; the supernet is unusable afterwards. */
  dispose(): void {
    this.model.dispose();
    this.statistics.dispose();
    this.optimizer.dispose();
  }
}

/**
 * Cross-entropy, the label-smoothed criterion and top-1 / top-5 hits of a batch's logits
 * (row-major, `classes` per sample). With lse = log sum exp(row), the smoothed targets
 * ((1 - eps) on the label, eps / K on every class) give
 *   criterion = (1 - eps) * (lse - row[label]) + eps * (lse - mean(row)),
 * the same as `smoothedCrossEntropy` (layers.ts) computes in the training step.
 */
export function classificationResult(logits: Float32Array | Int32Array | Uint8Array, labels: Int32Array, classes: number, smoothing = 0): EvaluationResult {
  let loss = 0;
  let criterion = 0;
  let correct = 0;
  let top5Correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const target = row[labels[i]!]!;
    let max = -Infinity;
    let outscoring = 0;
    for (const v of row) {
      if (v > max) max = v;
      if (v > target) outscoring++;
    }
    let sumExp = 0;
    let sum = 0;
    for (const v of row) {
      sumExp += Math.exp(v - max);
      sum += v;
    }
    const lse = max + Math.log(sumExp);
    loss += lse - target;
    criterion += (1 - smoothing) * (lse - target) + smoothing * (lse - sum / classes);
    if (outscoring === 0) correct++;
    if (outscoring < 5) top5Correct++;
  }
  return { loss: loss / labels.length, criterionLoss: criterion / labels.length, correct, top5Correct, count: labels.length };
}

/** Cosine annealing from lrMax at step 0 to lrMin at totalSteps (clamped outside). */
export function cosineLr(step: number, totalSteps: number, lrMax: number, lrMin: number): number {
  const t = Math.min(Math.max(step / totalSteps, 0), 1);
  return lrMin + 0.5 * (lrMax - lrMin) * (1 + Math.cos(Math.PI * t));
}
