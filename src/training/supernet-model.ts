/**
 * The supernet's parameters and forward pass over a SearchSpaceDefinition.
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
 * head weights are shared by all paths. The forward pass runs one path and takes the BatchNorm
 * treatment (batch or running statistics, batch-norm-statistics.ts) and the parameter values
 * (the stored ones, or the ones being differentiated) as arguments.
 */
import { DEFAULT_SE, hiddenChannels, seChannels } from '../search-space/cost.js';
import type { Architecture, FixedBlockSpec, OpSpec, SearchSpaceDefinition } from '../search-space/definition.js';
import { initialValues, type Initializer } from './init.js';
import { conv1x1, conv2d, depthwise, globalAveragePool, matMulFast, subsample, type Activation } from './layers.js';
import { tf, type Tensor, type Tensor2D, type Tensor4D } from './tf.js';

export interface LabelledBatch {
  /** NHWC, normalised, `labels.length` images of the space's input size. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/** How a forward pass treats BatchNorm `bnPrefix`, followed by the activation `act` (if any). */
export type NormFn = (x: Tensor4D, bnPrefix: string, act: Activation | null) => Tensor4D;

/** The value of a parameter by name during one forward pass. */
export type ParameterValues = (name: string) => Tensor;

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

export class SupernetModel {
  private readonly act: Activation;
  private readonly specs = new Map<string, ParamSpec>();
  /** BN prefix -> channels, in construction order. */
  private readonly norms = new Map<string, number>();
  private readonly stemBlocks: Block[] = [];
  /** [layer][op] */
  private readonly layerBlocks: Block[][] = [];
  /** Parameter names of each block, by block prefix. */
  private readonly blockParams = new Map<string, string[]>();
  /** Current values, in construction order (the checkpoint order). */
  private readonly values = new Map<string, Tensor>();

  constructor(
    readonly space: SearchSpaceDefinition,
    seed: number,
  ) {
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
      this.layerBlocks.push(layer.ops.map((op, o) => this.layerOp(`l${l}.op${o}`, op, channels, layer.channels, layer.stride)));
      channels = layer.channels;
    });
    this.weight('head.conv.w', [channels, space.head.channels], channels);
    this.norm('head.bn', space.head.channels);
    this.param('classifier.w', [space.head.channels, space.head.classes], { kind: 'normal', std: 0.01 }, true);
    this.param('classifier.b', [space.head.classes], { kind: 'constant', value: 0 }, false);
    for (const [name, spec] of this.specs) {
      this.values.set(name, tf.tensor(initialValues(seed, name, sizeOf(spec.shape), spec.init), [...spec.shape]));
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

  private layerOp(prefix: string, op: OpSpec, cin: number, cout: number, stride: 1 | 2): Block {
    if (op.type === 'mbconv') {
      return this.mbconv(prefix, cin, { kernel: op.kernel, expansion: op.expansion, se: op.se, channels: cout, stride });
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

  // ---- parameters ---------------------------------------------------------------------------

  /** Every trainable variable, in construction order. */
  get variableNames(): string[] {
    return [...this.specs.keys()];
  }

  variableShape(name: string): readonly number[] {
    const spec = this.specs.get(name);
    if (spec === undefined) throw new Error(`no variable ${name}`);
    return spec.shape;
  }

  /** Whether weight decay applies to `name` (convolution and linear weights only). */
  decays(name: string): boolean {
    return this.specs.get(name)!.decay;
  }

  /** BN prefix -> channels, in construction order. */
  get batchNorms(): ReadonlyMap<string, number> {
    return this.norms;
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

  /** The current value of a parameter, or undefined when there is none of that name. */
  value(name: string): Tensor | undefined {
    return this.values.get(name);
  }

  /** The stored values as a forward pass reads them. */
  readonly current: ParameterValues = (name) => this.values.get(name)!;

  /** Replaces a parameter's value (and frees the old one). */
  replace(name: string, value: Tensor): void {
    const old = this.values.get(name)!;
    this.values.set(name, value);
    old.dispose();
  }

  /** Every parameter with its value, in construction order. */
  entries(): IterableIterator<[string, Tensor]> {
    return this.values.entries();
  }

  /** Replaces every value (shapes already checked), keeping the construction order. */
  load(values: ReadonlyMap<string, Tensor>): void {
    this.dispose();
    for (const name of this.specs.keys()) this.values.set(name, values.get(name)!);
  }

  /** Frees every value. */
  dispose(): void {
    tf.dispose([...this.values.values()]);
    this.values.clear();
  }

  checkArchitecture(arch: Architecture): void {
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

  inputTensor(batch: LabelledBatch): Tensor4D {
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

  /** Logits of path `arch` for the images `x`. */
  forward(arch: Architecture, x: Tensor4D, bn: NormFn, p: ParameterValues): Tensor2D {
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

  private block(b: Block, x: Tensor4D, bn: NormFn, p: ParameterValues): Tensor4D {
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

  private squeezeExcite(h: Tensor4D, prefix: string, p: ParameterValues): Tensor4D {
    const [n, , , c] = h.shape;
    const squeezed = tf.relu(tf.add(matMulFast(globalAveragePool(h), p(`${prefix}.se.reduce.w`) as Tensor2D), p(`${prefix}.se.reduce.b`)));
    const gate = tf.sigmoid(tf.add(matMulFast(squeezed as Tensor2D, p(`${prefix}.se.expand.w`) as Tensor2D), p(`${prefix}.se.expand.b`)));
    return tf.mul(h, tf.reshape(gate, [n, 1, 1, c]));
  }
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
