/**
 * Plain data describing a weight-sharing search space. Presets and user-defined JSON spaces
 * are values of this type; `SearchSpace` (search-space.ts) wraps one with behaviour.
 */

/** One candidate operation of a searchable layer. */
export type OpSpec =
  /** Identity; becomes a 1x1 conv + BN when resolution or channels change. */
  | { readonly type: 'identity' }
  /** MobileNetV2 inverted residual (MBConv): 1x1 expand, kxk depthwise, optional SE, 1x1 project. */
  | {
      readonly type: 'mbconv';
      readonly kernel: number;
      readonly expansion: number;
      readonly se: boolean;
    };

/** A searchable layer: every op maps `channels` of the previous layer to `channels` here. */
export interface LayerSpec {
  readonly channels: number;
  readonly stride: 1 | 2;
  readonly ops: readonly OpSpec[];
}

/** A fixed (not searched) MBConv block, e.g. the ImageNet space's k3 e1 block after the stem. */
export interface FixedBlockSpec {
  readonly kernel: number;
  readonly expansion: number;
  readonly se: boolean;
  readonly channels: number;
  readonly stride: 1 | 2;
}

export interface SearchSpaceDefinition {
  readonly name: string;
  readonly input: { readonly size: number; readonly channels: number };
  readonly stem: {
    readonly channels: number;
    readonly kernel: number;
    readonly stride: 1 | 2;
    readonly blocks?: readonly FixedBlockSpec[];
  };
  readonly layers: readonly LayerSpec[];
  readonly head: { readonly channels: number; readonly classes: number };
  /** Squeeze-excitation reduction: SE hidden width = round(ratio * reference channels). */
  readonly se?: { readonly ratio: number; readonly reference: 'input' | 'expanded' };
  /** Activation used inside blocks (does not change FLOPs/params). */
  readonly activation?: 'relu' | 'relu6' | 'swish';
  /** Stages as layer-index ranges [start, end) — used for canonical forms. */
  readonly stages?: readonly (readonly [number, number])[];
}

/** One op index per searchable layer. */
export type Architecture = readonly number[];
