/**
 * Weight-sharing supernet over a SearchSpaceDefinition, trained one sampled path at a time.
 *
 * Structure (following the NAS-Bench-Macro reference model and MobileNetV2):
 *   stem     kxk conv (stride from the space) + BN + act, then the space's fixed MBConv blocks
 *   layer l  op o: identity (1x1 conv + BN when resolution or channels change) or MBConv
 *            (1x1 expand + BN + act unless expansion 1, kxk depthwise + BN + act, optional SE,
 *            1x1 project + BN, residual when input and output shapes match)
 *   head     1x1 conv + BN + act, global average pool, linear classifier (with bias)
 * Convolutions pad k//2 on every side (PyTorch's padding) and have no bias.
 *
 * Every (layer, op) owns its weights, named `l<layer>.op<op>.<part>.<w|gamma|beta|...>`; stem and
 * head weights are shared by all paths. Only the sampled path runs forward and backward, and only
 * its variables are updated (a variable off the path gets neither gradient, momentum nor decay).
 */
import type { Architecture, FixedBlockSpec, OpSpec, SearchSpaceDefinition } from '../search-space/definition.js';
import { DEFAULT_SE, hiddenChannels, seChannels } from '../search-space/cost.js';
import { decodeWeights, encodeWeights, type NamedArray } from './checkpoint-format.js';
import { initialValues, type Initializer } from './init.js';
import {
  activate,
  batchNormInfer,
  batchNormTrain,
  conv1x1,
  conv2d,
  depthwise,
  globalAveragePool,
  matMulFast,
  smoothedCrossEntropy,
  subsample,
  type Activation,
  type BatchStatistics,
} from './layers.js';
import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor4D } from './tf.js';

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
  /** Samples whose label scores higher than every other class. */
  readonly correct: number;
  /** Samples whose label is outscored by fewer than 5 classes. */
  readonly top5Correct: number;
  readonly count: number;
}

export interface LabelledBatch {
  /** NHWC, normalised, `labels.length` images of the space's input size. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

interface ParamSpec {
  readonly shape: readonly number[];
  readonly init: Initializer;
  /** Whether weight decay applies (convolution and linear weights only). */
  readonly decay: boolean;
}

type Block =
  | { readonly kind: 'identity' }
  | { readonly kind: 'downsample'; readonly prefix: string; readonly stride: number }
  | {
      readonly kind: 'mbconv';
      readonly prefix: string;
      readonly expand: boolean;
      readonly stride: number;
      readonly se: boolean;
      readonly residual: boolean;
    };

/** How a forward pass treats BatchNorm: with batch statistics or with running statistics. */
type NormFn = (x: Tensor4D, bnPrefix: string, act: Activation | null) => Tensor4D;

const MOMENTUM_PREFIX = 'momentum/';
const RUNNING_MEAN = 'running_mean';
const RUNNING_VAR = 'running_var';

export class Supernet {
  readonly space: SearchSpaceDefinition;
  private readonly seed: number;
  private readonly momentum: number;
  private readonly weightDecay: number;
  private readonly labelSmoothing: number;
  private readonly bnMomentum: number;
  private readonly bnEpsilon: number;
  private readonly act: Activation;

  private readonly specs = new Map<string, ParamSpec>();
  /** BN prefix -> channels, in construction order. */
  private readonly norms = new Map<string, number>();
  private readonly stemBlocks: Block[] = [];
  /** [layer][op] */
  private readonly layerBlocks: Block[][] = [];
  /** Parameter names of each block, by block prefix. */
  private readonly blockParams = new Map<string, string[]>();

  private readonly params = new Map<string, Tensor>();
  private readonly running = new Map<string, Tensor1D>();
  private readonly velocity = new Map<string, Tensor>();

  constructor(space: SearchSpaceDefinition, options: SupernetOptions) {
    this.space = space;
    this.seed = options.seed;
    this.momentum = options.momentum ?? 0.9;
    this.weightDecay = options.weightDecay ?? 0;
    this.labelSmoothing = options.labelSmoothing ?? 0;
    this.bnMomentum = options.bnMomentum ?? 0.1;
    this.bnEpsilon = options.bnEpsilon ?? 1e-5;
    this.act = space.activation ?? 'relu';

    let channels = space.input.channels;
    const stem = space.stem;
    this.weight('stem.conv.w', [stem.kernel, stem.kernel, channels, stem.channels], stem.kernel * stem.kernel * channels);
    this.norm('stem.bn', stem.channels);
    channels = stem.channels;
    (stem.blocks ?? []).forEach((b, i) => {
      this.stemBlocks.push(this.mbconv(`stem.block${i}`, channels, b));
      channels = b.channels;
    });
    space.layers.forEach((layer, l) => {
      this.layerBlocks.push(
        layer.ops.map((op, o) => this.layerOp(`l${l}.op${o}`, op, channels, layer.channels, layer.stride)),
      );
      channels = layer.channels;
    });
    this.weight('head.conv.w', [channels, space.head.channels], channels);
    this.norm('head.bn', space.head.channels);
    this.param('classifier.w', [space.head.channels, space.head.classes], { kind: 'normal', std: 0.01 }, true);
    this.param('classifier.b', [space.head.classes], { kind: 'constant', value: 0 }, false);

    for (const [name, spec] of this.specs) {
      this.params.set(name, tf.tensor(initialValues(this.seed, name, sizeOf(spec.shape), spec.init), [...spec.shape]));
    }
    for (const [prefix, c] of this.norms) {
      this.running.set(`${prefix}.${RUNNING_MEAN}`, tf.zeros([c]));
      this.running.set(`${prefix}.${RUNNING_VAR}`, tf.ones([c]));
    }
  }

  // ---- construction -------------------------------------------------------------------------

  private param(name: string, shape: number[], init: Initializer, decay: boolean): string {
    this.specs.set(name, { shape, init, decay });
    return name;
  }

  private weight(name: string, shape: number[], fanIn: number): string {
    return this.param(name, shape, { kind: 'he-normal', fanIn }, true);
  }

  private norm(prefix: string, channels: number): string[] {
    this.norms.set(prefix, channels);
    return [
      this.param(`${prefix}.gamma`, [channels], { kind: 'constant', value: 1 }, false),
      this.param(`${prefix}.beta`, [channels], { kind: 'constant', value: 0 }, false),
    ];
  }

  private layerOp(prefix: string, op: OpSpec, cin: number, cout: number, stride: number): Block {
    if (op.type === 'mbconv') {
      return this.mbconv(prefix, cin, { kernel: op.kernel, expansion: op.expansion, se: op.se, channels: cout, stride: stride as 1 | 2 });
    }
    if (stride === 1 && cin === cout) {
      this.blockParams.set(prefix, []);
      return { kind: 'identity' };
    }
    this.blockParams.set(prefix, [this.weight(`${prefix}.down.w`, [cin, cout], cin), ...this.norm(`${prefix}.down.bn`, cout)]);
    return { kind: 'downsample', prefix, stride };
  }

  private mbconv(prefix: string, cin: number, b: FixedBlockSpec): Block {
    const hidden = hiddenChannels(cin, b.expansion);
    const names: string[] = [];
    const expand = b.expansion !== 1;
    if (expand) names.push(this.weight(`${prefix}.expand.w`, [cin, hidden], cin), ...this.norm(`${prefix}.expand.bn`, hidden));
    names.push(this.weight(`${prefix}.dw.w`, [b.kernel, b.kernel, hidden, 1], b.kernel * b.kernel), ...this.norm(`${prefix}.dw.bn`, hidden));
    if (b.se) {
      const squeezed = seChannels(cin, hidden, this.space.se ?? DEFAULT_SE);
      names.push(
        this.weight(`${prefix}.se.reduce.w`, [hidden, squeezed], hidden),
        this.param(`${prefix}.se.reduce.b`, [squeezed], { kind: 'constant', value: 0 }, false),
        this.weight(`${prefix}.se.expand.w`, [squeezed, hidden], squeezed),
        this.param(`${prefix}.se.expand.b`, [hidden], { kind: 'constant', value: 0 }, false),
      );
    }
    names.push(this.weight(`${prefix}.project.w`, [hidden, b.channels], hidden), ...this.norm(`${prefix}.project.bn`, b.channels));
    this.blockParams.set(prefix, names);
    return { kind: 'mbconv', prefix, expand, stride: b.stride, se: b.se, residual: b.stride === 1 && cin === b.channels };
  }

  // ---- introspection ------------------------------------------------------------------------

  /** Every trainable variable, in construction order. */
  get variableNames(): string[] {
    return [...this.specs.keys()];
  }

  variableShape(name: string): readonly number[] {
    const spec = this.specs.get(name);
    if (spec === undefined) throw new Error(`no variable ${name}`);
    return spec.shape;
  }

  /** Trainable parameters of the whole supernet (weights of every op of every layer). */
  get parameterCount(): number {
    let n = 0;
    for (const spec of this.specs.values()) n += sizeOf(spec.shape);
    return n;
  }

  /** The variables one architecture uses, in forward order. */
  pathVariableNames(arch: Architecture): string[] {
    this.checkArchitecture(arch);
    const names = ['stem.conv.w', 'stem.bn.gamma', 'stem.bn.beta'];
    this.stemBlocks.forEach((_, i) => names.push(...this.blockParams.get(`stem.block${i}`)!));
    arch.forEach((op, l) => names.push(...this.blockParams.get(`l${l}.op${op}`)!));
    names.push('head.conv.w', 'head.bn.gamma', 'head.bn.beta', 'classifier.w', 'classifier.b');
    return names;
  }

  /** Trainable parameters of the stand-alone network `arch` (as PyTorch counts them). */
  pathParameterCount(arch: Architecture): number {
    return this.pathVariableNames(arch).reduce((n, name) => n + sizeOf(this.specs.get(name)!.shape), 0);
  }

  /** Current values of a variable or BN running statistic (a copy). */
  read(name: string): Float32Array {
    const t = this.params.get(name) ?? this.running.get(name);
    if (t === undefined) throw new Error(`no variable ${name}`);
    return t.dataSync() as Float32Array;
  }

  private checkArchitecture(arch: Architecture): void {
    const layers = this.space.layers;
    if (arch.length !== layers.length) {
      throw new Error(`architecture has ${arch.length} layers, the space ${layers.length}`);
    }
    arch.forEach((op, l) => {
      if (!Number.isInteger(op) || op < 0 || op >= layers[l]!.ops.length) {
        throw new Error(`layer ${l}: op ${op} is not in [0, ${layers[l]!.ops.length})`);
      }
    });
  }

  // ---- forward ------------------------------------------------------------------------------

  private forward(arch: Architecture, x: Tensor4D, bn: NormFn, p: (name: string) => Tensor): Tensor2D {
    const { stem } = this.space;
    let h = bn(conv2d(x, p('stem.conv.w') as Tensor4D, stem.stride), 'stem.bn', this.act);
    for (const block of this.stemBlocks) h = this.block(block, h, bn, p);
    arch.forEach((op, l) => {
      h = this.block(this.layerBlocks[l]![op]!, h, bn, p);
    });
    h = bn(conv1x1(h, p('head.conv.w') as Tensor2D), 'head.bn', this.act);
    const logits = matMulFast(globalAveragePool(h), p('classifier.w') as Tensor2D);
    return tf.add(logits, p('classifier.b'));
  }

  private block(b: Block, x: Tensor4D, bn: NormFn, p: (name: string) => Tensor): Tensor4D {
    switch (b.kind) {
      case 'identity':
        return x;
      case 'downsample':
        return bn(conv1x1(subsample(x, b.stride), p(`${b.prefix}.down.w`) as Tensor2D), `${b.prefix}.down.bn`, null);
      case 'mbconv': {
        let h = x;
        if (b.expand) h = bn(conv1x1(h, p(`${b.prefix}.expand.w`) as Tensor2D), `${b.prefix}.expand.bn`, this.act);
        h = bn(depthwise(h, p(`${b.prefix}.dw.w`) as Tensor4D, b.stride), `${b.prefix}.dw.bn`, this.act);
        if (b.se) h = this.squeezeExcite(h, b.prefix, p);
        h = bn(conv1x1(h, p(`${b.prefix}.project.w`) as Tensor2D), `${b.prefix}.project.bn`, null);
        return b.residual ? tf.add(h, x) : h;
      }
    }
  }

  private squeezeExcite(h: Tensor4D, prefix: string, p: (name: string) => Tensor): Tensor4D {
    const [n, , , c] = h.shape;
    const squeezed = tf.relu(tf.add(matMulFast(globalAveragePool(h), p(`${prefix}.se.reduce.w`) as Tensor2D), p(`${prefix}.se.reduce.b`)));
    const gate = tf.sigmoid(tf.add(matMulFast(squeezed as Tensor2D, p(`${prefix}.se.expand.w`) as Tensor2D), p(`${prefix}.se.expand.b`)));
    return tf.mul(h, tf.reshape(gate, [n, 1, 1, c]));
  }

  /** BN with batch statistics; `collect` receives each BN's statistics (kept: caller disposes). */
  private batchNorm(p: (name: string) => Tensor, collect: (prefix: string, stats: BatchStatistics) => void): NormFn {
    return (x, prefix, act) => {
      const fuse = act === 'relu';
      const y = batchNormTrain(x, p(`${prefix}.gamma`) as Tensor1D, p(`${prefix}.beta`) as Tensor1D, this.bnEpsilon, fuse, (stats) => {
        collect(prefix, { mean: tf.keep(stats.mean), variance: tf.keep(stats.variance), count: stats.count });
      });
      return act === null || fuse ? y : activate(y, act);
    };
  }

  private inferenceNorm(): NormFn {
    return (x, prefix, act) => {
      const y = batchNormInfer(
        x,
        this.params.get(`${prefix}.gamma`) as Tensor1D,
        this.params.get(`${prefix}.beta`) as Tensor1D,
        this.running.get(`${prefix}.${RUNNING_MEAN}`)!,
        this.running.get(`${prefix}.${RUNNING_VAR}`)!,
        this.bnEpsilon,
      );
      return act === null ? y : activate(y, act);
    };
  }

  private inputTensor(batch: LabelledBatch): Tensor4D {
    const { size, channels } = this.space.input;
    const n = batch.labels.length;
    if (batch.images.length !== n * size * size * channels) {
      throw new Error(`images hold ${batch.images.length} values; ${n} labels need ${n} x ${size}x${size}x${channels}`);
    }
    const classes = this.space.head.classes;
    const bad = batch.labels.findIndex((label) => !(label >= 0 && label < classes));
    if (bad >= 0) throw new Error(`label ${batch.labels[bad]} of sample ${bad} is outside [0, ${classes})`);
    return tf.tensor4d(batch.images, [n, size, size, channels]);
  }

  // ---- training -----------------------------------------------------------------------------

  /**
   * One SGD step on the path `arch`: forward with batch statistics, backward, momentum update of
   * the path's variables, BN running averages updated. Returns the (label-smoothed) loss.
   */
  trainStep(arch: Architecture, images: Float32Array, labels: Int32Array, lr: number): number {
    const names = this.pathVariableNames(arch);
    const index = new Map(names.map((n, i) => [n, i]));
    const stats: [string, BatchStatistics][] = [];
    const loss = tf.tidy(() => {
      const x = this.inputTensor({ images, labels });
      const y = tf.tensor1d(labels, 'int32');
      const f = (...ws: Tensor[]): Tensor => {
        const p = (name: string): Tensor => ws[index.get(name)!]!;
        const logits = this.forward(arch, x, this.batchNorm(p, (prefix, s) => stats.push([prefix, s])), p);
        return smoothedCrossEntropy(logits, y, this.labelSmoothing);
      };
      const { value, grads } = tf.valueAndGrads(f)(names.map((n) => this.params.get(n)!));
      names.forEach((name, i) => this.applyGradient(name, grads[i]!, lr));
      for (const [prefix, s] of stats) this.updateRunningAverages(prefix, s);
      return value;
    });
    for (const [, s] of stats) tf.dispose([s.mean, s.variance]);
    const value = loss.dataSync()[0]!;
    loss.dispose();
    return value;
  }

  /** PyTorch SGD: d = g + wd * w; v = momentum * v + d (v = d on first use); w -= lr * v. */
  private applyGradient(name: string, gradient: Tensor, lr: number): void {
    const w = this.params.get(name)!;
    const d = this.weightDecay > 0 && this.specs.get(name)!.decay ? tf.add(gradient, tf.mul(w, this.weightDecay)) : gradient;
    const previous = this.velocity.get(name);
    const v = tf.keep(previous === undefined ? tf.clone(d) : tf.add(tf.mul(previous, this.momentum), d));
    this.velocity.set(name, v);
    this.params.set(name, tf.keep(tf.sub(w, tf.mul(v, lr))));
    previous?.dispose();
    w.dispose();
  }

  private updateRunningAverages(prefix: string, s: BatchStatistics): void {
    const meanName = `${prefix}.${RUNNING_MEAN}`;
    const varName = `${prefix}.${RUNNING_VAR}`;
    const oldMean = this.running.get(meanName)!;
    const oldVar = this.running.get(varName)!;
    const m = this.bnMomentum;
    const unbiased = unbiasedVariance(s);
    this.running.set(meanName, tf.keep(tf.add(tf.mul(oldMean, 1 - m), tf.mul(s.mean, m))));
    this.running.set(varName, tf.keep(tf.add(tf.mul(oldVar, 1 - m), tf.mul(unbiased, m))));
    oldMean.dispose();
    oldVar.dispose();
  }

  // ---- evaluation ---------------------------------------------------------------------------

  /** Inference with BN running statistics. */
  evaluateBatch(arch: Architecture, images: Float32Array, labels: Int32Array): EvaluationResult {
    this.checkArchitecture(arch);
    const logitsTensor = tf.tidy(() =>
      this.forward(arch, this.inputTensor({ images, labels }), this.inferenceNorm(), (name) => this.params.get(name)!),
    );
    const logits = logitsTensor.dataSync();
    logitsTensor.dispose();
    const classes = this.space.head.classes;
    let loss = 0;
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
      for (const v of row) sumExp += Math.exp(v - max);
      loss += max + Math.log(sumExp) - target;
      if (outscoring === 0) correct++;
      if (outscoring < 5) top5Correct++;
    }
    return { loss: loss / labels.length, correct, top5Correct, count: labels.length };
  }

  /**
   * Re-estimates the running statistics of every BN on the path as the plain average of its
   * batch statistics over `batches` (PyTorch's cumulative average, momentum None), as the authors
   * do before evaluating a candidate. Weights and momentum are untouched.
   */
  recalibrateBatchNorm(arch: Architecture, batches: Iterable<LabelledBatch>): void {
    this.checkArchitecture(arch);
    const sums = new Map<string, { mean: Tensor1D; variance: Tensor1D }>();
    let count = 0;
    for (const batch of batches) {
      tf.tidy(() => {
        const x = this.inputTensor(batch);
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
        this.forward(arch, x, this.batchNorm((name) => this.params.get(name)!, collect), (name) => this.params.get(name)!);
      });
      count++;
    }
    if (count === 0) throw new Error('recalibrateBatchNorm needs at least one batch');
    for (const [prefix, s] of sums) {
      this.replaceRunning(`${prefix}.${RUNNING_MEAN}`, tf.div(s.mean, count));
      this.replaceRunning(`${prefix}.${RUNNING_VAR}`, tf.div(s.variance, count));
      tf.dispose([s.mean, s.variance]);
    }
  }

  private replaceRunning(name: string, value: Tensor): void {
    this.running.get(name)!.dispose();
    this.running.set(name, value as Tensor1D);
  }

  // ---- persistence --------------------------------------------------------------------------

  /**
   * Parameters, BN running statistics and momentum buffers (of variables trained so far) in the
   * checkpoint format of checkpoint-format.ts. Order is fixed, so equal state gives equal bytes.
   */
  saveWeights(): Buffer {
    const entries: NamedArray[] = [];
    const push = (name: string, t: Tensor): void => {
      entries.push({ name, shape: t.shape, values: t.dataSync() as Float32Array });
    };
    for (const [name, t] of this.params) push(name, t);
    for (const [name, t] of this.running) push(name, t);
    for (const name of this.specs.keys()) {
      const v = this.velocity.get(name);
      if (v !== undefined) push(`${MOMENTUM_PREFIX}${name}`, v);
    }
    return encodeWeights(entries);
  }

  /** Replaces all state with a saveWeights() image of a supernet over the same space. */
  loadWeights(buf: Buffer): void {
    const entries = new Map(decodeWeights(buf).map((e) => [e.name, e]));
    const expect = (name: string, shape: readonly number[]): NamedArray => {
      const e = entries.get(name);
      if (e === undefined) throw new Error(`weight file lacks ${name}`);
      if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`weight file: ${name} has shape [${e.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
      return e;
    };
    // Validate everything before replacing anything: a bad file leaves the supernet intact.
    const params = [...this.specs].map(([name, spec]) => expect(name, spec.shape));
    const running = [...this.running].map(([name, t]) => expect(name, t.shape));
    const velocity: NamedArray[] = [];
    for (const e of entries.values()) {
      if (!e.name.startsWith(MOMENTUM_PREFIX)) {
        if (!this.specs.has(e.name) && !this.running.has(e.name)) throw new Error(`weight file has unknown tensor ${e.name}`);
        continue;
      }
      const target = e.name.slice(MOMENTUM_PREFIX.length);
      const spec = this.specs.get(target);
      if (spec === undefined) throw new Error(`weight file has momentum for unknown variable ${target}`);
      velocity.push(expect(e.name, spec.shape));
    }
    this.disposeState();
    for (const e of params) this.params.set(e.name, tf.tensor(e.values, [...e.shape]));
    for (const e of running) this.running.set(e.name, tf.tensor1d(e.values));
    for (const e of velocity) this.velocity.set(e.name.slice(MOMENTUM_PREFIX.length), tf.tensor(e.values, [...e.shape]));
  }

  private disposeState(): void {
    tf.dispose([...this.params.values(), ...this.running.values(), ...this.velocity.values()]);
    this.params.clear();
    this.running.clear();
    this.velocity.clear();
  }

  /** Frees every tensor; the supernet is unusable afterwards. */
  dispose(): void {
    this.disposeState();
  }
}

/** Running variances use the unbiased batch variance, as PyTorch does. */
function unbiasedVariance(s: BatchStatistics): Tensor1D {
  return tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Cosine annealing from lrMax at step 0 to lrMin at totalSteps (clamped outside). */
export function cosineLr(step: number, totalSteps: number, lrMax: number, lrMin: number): number {
  const t = Math.min(Math.max(step / totalSteps, 0), 1);
  return lrMin + 0.5 * (lrMax - lrMin) * (1 + Math.cos(Math.PI * t));
}
