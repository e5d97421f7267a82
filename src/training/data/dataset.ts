/**
 * The common shape of every image source (CIFAR-10 batches, class folders, Fashion-MNIST), and
 * the deterministic train/validation split the search needs (the authors hold out part of the
 * training set as validation, leaving the test set untouched).
 */
import { rngFor } from '../../random/counter-rng.js';

export interface Sample {
  /** HWC pixels scaled to [0, 1] (normalisation happens when batches are assembled). */
  readonly image: Float32Array;
  readonly label: number;
}

export interface Dataset {
  readonly size: number;
  /** [height, width, channels] of every image. */
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
  /** Per-channel mean and standard deviation of [0, 1] pixels, used to normalise batches. */
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
  get(i: number): Sample;
  /** The label of sample i without decoding its image. */
  label(i: number): number;
}

export function checkIndex(dataset: { readonly size: number }, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= dataset.size) {
    throw new RangeError(`sample index ${i} is outside [0, ${dataset.size})`);
  }
}

/** The samples `indices` of `source`, renumbered 0..indices.length-1. */
export function subset(source: Dataset, indices: Int32Array): Dataset {
  return {
    size: indices.length,
    inputShape: source.inputShape,
    classes: source.classes,
    normalization: source.normalization,
    get(i) {
      checkIndex(this, i);
      return source.get(indices[i]!);
    },
    label(i) {
      checkIndex(this, i);
      return source.label(indices[i]!);
    },
  };
}

export interface SplitOptions {
  /** Validation samples taken from each class (capped at the class size). */
  readonly perClass: number;
  /** Which samples are held out; the same seed always holds out the same samples. */
  readonly seed: number;
}

/**
 * Holds out `perClass` samples of every class as validation, chosen by a seeded shuffle of each
 * class's indices (stratified, so a small validation split still covers every class evenly).
 * Both parts list their samples in the source's order.
 */
export function splitTrainVal(source: Dataset, options: SplitOptions): { train: Dataset; val: Dataset } {
  const byClass: number[][] = Array.from({ length: source.classes }, () => []);
  for (let i = 0; i < source.size; i++) {
    const label = source.label(i);
    if (!Number.isInteger(label) || label < 0 || label >= source.classes) {
      throw new RangeError(`sample ${i} has label ${label}, outside [0, ${source.classes})`);
    }
    byClass[label]!.push(i);
  }
  const held = new Uint8Array(source.size);
  byClass.forEach((indices, label) => {
    const shuffled = rngFor(options.seed, 0, `val-split/${label}`).shuffle([...indices]);
    for (const i of shuffled.slice(0, options.perClass)) held[i] = 1;
  });
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < source.size; i++) (held[i] === 1 ? val : train).push(i);
  return { train: subset(source, Int32Array.from(train)), val: subset(source, Int32Array.from(val)) };
}
