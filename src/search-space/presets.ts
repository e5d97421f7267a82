/**
 * The search spaces the service ships, and width/resolution scaling for small demos.
 */
import { searchSpaceError } from './errors.js';
import { SearchSpace } from './search-space.js';
import type { LayerSpec, OpSpec, SearchSpaceDefinition } from './definition.js';

const identity: OpSpec = { type: 'identity' };

function mbconv(kernel: number, expansion: number, se: boolean): OpSpec {
  return { type: 'mbconv', kernel, expansion, se };
}

/** One layer per entry of `channels`; the first layer of every stage has stride 2. */
function stagedLayers(
  stages: readonly (readonly number[])[],
  ops: OpSpec[],
): { layers: LayerSpec[]; stages: [number, number][] } {
  const layers: LayerSpec[] = [];
  const ranges: [number, number][] = [];
  for (const channels of stages) {
    const start = layers.length;
    channels.forEach((c, i) => layers.push({ channels: c, stride: i === 0 ? 2 : 1, ops }));
    ranges.push([start, layers.length]);
  }
  return { layers, stages: ranges };
}

const macro = stagedLayers(
  [
    [64, 64],
    [128, 128, 128],
    [256, 256, 256],
  ],
  [identity, mbconv(3, 3, false), mbconv(5, 6, false)],
);

/**
 * NAS-Bench-Macro (CIFAR-10, 32x32): 8 layers x 3 ops (0 identity, 1 k3 e3, 2 k5 e6), keys of
 * 8 digits. Its FLOPs/params match the benchmark table exactly.
 */
export const nasBenchMacro: SearchSpaceDefinition = {
  name: 'nas-bench-macro',
  input: { size: 32, channels: 3 },
  stem: { channels: 32, kernel: 3, stride: 1 },
  layers: macro.layers,
  head: { channels: 1280, classes: 10 },
  activation: 'relu',
  stages: macro.stages,
};

const kernelsAndExpansions = [3, 5, 7].flatMap((k) => [3, 6].map((e) => [k, e] as const));

const imagenet = stagedLayers(
  [
    [32, 32, 32, 32],
    [40, 40, 40, 40],
    [80, 80, 80, 80, 96, 96, 96, 96],
    [192, 192, 192, 192, 320],
  ],
  [
    identity,
    ...kernelsAndExpansions.map(([k, e]) => mbconv(k, e, false)),
    ...kernelsAndExpansions.map(([k, e]) => mbconv(k, e, true)),
  ],
);

/**
 * The paper's ImageNet space (the GreedyNAS space): stem 3x3 s2 32 ch and a fixed k3 e1 MBConv
 * to 16 ch, 21 searchable layers in stages 4/4/8/5, 13 ops per layer — 0 `id`, 1-6 k{3,5,7}e{3,6}
 * without SE, 7-12 the same with SE — head 1x1 to 1280, FC 1000. SE as in the GreedyNAS
 * reference configuration: a quarter of the expanded width. Blocks use (hard-)swish there.
 */
export const imagenetMctNas: SearchSpaceDefinition = {
  name: 'imagenet-mct-nas',
  input: { size: 224, channels: 3 },
  stem: {
    channels: 32,
    kernel: 3,
    stride: 2,
    blocks: [{ kernel: 3, expansion: 1, se: false, channels: 16, stride: 1 }],
  },
  layers: imagenet.layers,
  head: { channels: 1280, classes: 1000 },
  se: { ratio: 0.25, reference: 'expanded' },
  activation: 'swish',
  stages: imagenet.stages,
};

export const presets: Record<string, SearchSpaceDefinition> = {
  'nas-bench-macro': nasBenchMacro,
  imagenet: imagenetMctNas,
};

export function presetSpace(name: string): SearchSpace {
  const def = Object.hasOwn(presets, name) ? presets[name] : undefined;
  if (def === undefined) {
    throw searchSpaceError('preset', `unknown preset "${name}"; valid: ${Object.keys(presets).join(', ')}`);
  }
  return SearchSpace.fromDefinition(def);
}

/** MobileNet's make_divisible: nearest multiple of 8, at least 8, never below 90% of `value`. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

export interface ScaleOptions {
  /** Multiplies every channel count (stem, fixed blocks, layers, head), then `makeDivisible`. */
  readonly widthMultiplier?: number;
  readonly inputSize?: number;
  readonly inputChannels?: number;
  readonly classes?: number;
}

/**
 * A reduced variant of `def` (e.g. the CPU demo on 28x28 Fashion-MNIST). Unlike MobileNetV2,
 * the head width scales too: a 1280-wide head would dominate a narrow demo network.
 */
export function scaledSpace(def: SearchSpaceDefinition, options: ScaleOptions): SearchSpaceDefinition {
  const width = options.widthMultiplier ?? 1;
  if (!(width > 0) || !Number.isFinite(width)) {
    throw searchSpaceError('widthMultiplier', `must be a positive number, got ${width}`);
  }
  const scale = (channels: number): number => makeDivisible(channels * width);
  const input = { size: options.inputSize ?? def.input.size, channels: options.inputChannels ?? def.input.channels };
  const scaled: SearchSpaceDefinition = {
    ...def,
    name: `${def.name}-x${width}-${input.size}px`,
    input,
    stem: {
      ...def.stem,
      channels: scale(def.stem.channels),
      ...(def.stem.blocks && { blocks: def.stem.blocks.map((b) => ({ ...b, channels: scale(b.channels) })) }),
    },
    layers: def.layers.map((layer) => ({ ...layer, channels: scale(layer.channels) })),
    head: { channels: scale(def.head.channels), classes: options.classes ?? def.head.classes },
  };
  // Validated now, so a bad size or class count fails here naming its field (input.size, head.classes).
  return SearchSpace.fromDefinition(scaled).network;
}
