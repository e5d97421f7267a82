/**
 * Analytic FLOPs and parameter counts, block by block.
 *
 * Conventions (they reproduce all 6561 `flops`/`params` entries of the NAS-Bench-Macro table
 * exactly, see test/search-space/nas-bench-macro.test.ts):
 * - FLOPs are multiply-accumulates of convolutions and linear layers only; BatchNorm,
 *   activations, pooling, residual additions and the SE channel scaling count nothing.
 * - A k×k conv with stride s and padding k//2 maps size h to ceil(h / s) and costs
 *   k·k·(cin / groups)·cout MACs per *output* pixel — also the stride-2 1x1 conv of an identity.
 * - Convolutions have no bias; every BatchNorm adds 2·channels params (weight and bias; running
 *   statistics are buffers, not parameters); the classifier has a bias.
 * - MBConv (MobileNetV2 inverted residual): hidden = round(cin·expansion); a 1x1 expand conv +
 *   BN (skipped when expansion is 1), a k×k depthwise conv with the stride + BN, optional SE,
 *   a 1x1 project conv + BN. The expand conv runs at the input resolution, the rest at the output.
 * - SE (squeeze-excitation, on the hidden channels after the depthwise conv): two 1x1 convs
 *   hidden→r→hidden *with* biases, r = max(1, round(ratio·reference)), where reference is the
 *   hidden (`expanded`) or block input (`input`) width; its MACs (2·hidden·r) count.
 * - Identity: free when shape is preserved, otherwise a 1x1 conv (with the stride) + BN.
 * - Head: 1x1 conv + BN to `head.channels`, global average pooling, linear to `classes`.
 */
import type { FixedBlockSpec, OpSpec, SearchSpaceDefinition } from './definition.js';

export interface Cost {
  readonly flops: number;
  readonly params: number;
}

const ZERO_COST: Cost = { flops: 0, params: 0 };

export function addCosts(...costs: Cost[]): Cost {
  let flops = 0;
  let params = 0;
  for (const c of costs) {
    flops += c.flops;
    params += c.params;
  }
  return { flops, params };
}

/** Channels and square spatial size of a feature map. */
export interface Shape {
  readonly channels: number;
  readonly size: number;
}

/** The SE setting used when a definition enables SE ops without saying how wide they are. */
export const DEFAULT_SE: NonNullable<SearchSpaceDefinition['se']> = { ratio: 0.25, reference: 'expanded' };

export function outputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/** k×k conv (no bias) + BN producing `cout` channels at `outSize`. */
function convBn(cinPerGroup: number, cout: number, kernel: number, outSize: number): Cost {
  const weights = kernel * kernel * cinPerGroup * cout;
  return { flops: weights * outSize * outSize, params: weights + 2 * cout };
}

/** Hidden width of an MBConv block. */
export function hiddenChannels(cin: number, expansion: number): number {
  return Math.round(cin * expansion);
}

/** Hidden width of an SE module inside a block with input `cin` and hidden width `hidden`. */
export function seChannels(cin: number, hidden: number, se: NonNullable<SearchSpaceDefinition['se']>): number {
  return Math.max(1, Math.round(se.ratio * (se.reference === 'input' ? cin : hidden)));
}

export function mbconvCost(
  input: Shape,
  cout: number,
  stride: number,
  block: { readonly kernel: number; readonly expansion: number; readonly se: boolean },
  seConfig: NonNullable<SearchSpaceDefinition['se']>,
): Cost {
  const cin = input.channels;
  const hidden = hiddenChannels(cin, block.expansion);
  const out = outputSize(input.size, stride);
  const parts: Cost[] = [];
  if (block.expansion !== 1) parts.push(convBn(cin, hidden, 1, input.size));
  parts.push(convBn(1, hidden, block.kernel, out));
  if (block.se) {
    const r = seChannels(cin, hidden, seConfig);
    parts.push({ flops: 2 * hidden * r, params: 2 * hidden * r + r + hidden });
  }
  parts.push(convBn(hidden, cout, 1, out));
  return addCosts(...parts);
}

export function identityCost(input: Shape, cout: number, stride: number): Cost {
  if (stride === 1 && input.channels === cout) return ZERO_COST;
  return convBn(input.channels, cout, 1, outputSize(input.size, stride));
}

export function opCost(
  op: OpSpec,
  input: Shape,
  cout: number,
  stride: number,
  seConfig: NonNullable<SearchSpaceDefinition['se']>,
): Cost {
  return op.type === 'identity' ? identityCost(input, cout, stride) : mbconvCost(input, cout, stride, op, seConfig);
}

/** Stem conv and its fixed blocks: their cost and the shape they hand to the first searchable layer. */
export function stemCost(def: SearchSpaceDefinition): { cost: Cost; output: Shape } {
  const seConfig = def.se ?? DEFAULT_SE;
  let shape: Shape = { channels: def.stem.channels, size: outputSize(def.input.size, def.stem.stride) };
  const parts: Cost[] = [convBn(def.input.channels, def.stem.channels, def.stem.kernel, shape.size)];
  for (const block of def.stem.blocks ?? ([] as readonly FixedBlockSpec[])) {
    parts.push(mbconvCost(shape, block.channels, block.stride, block, seConfig));
    shape = { channels: block.channels, size: outputSize(shape.size, block.stride) };
  }
  return { cost: addCosts(...parts), output: shape };
}

/** 1x1 conv + BN to the head width, then the linear classifier (with bias). */
export function headCost(input: Shape, head: SearchSpaceDefinition['head']): Cost {
  return addCosts(convBn(input.channels, head.channels, 1, input.size), {
    flops: head.channels * head.classes,
    params: head.channels * head.classes + head.classes,
  });
}
