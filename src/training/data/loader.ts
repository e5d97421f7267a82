/**
 * Batches for training and evaluation. Everything random is a pure function of the seed and the
 * step: the sample order of an epoch comes from the stream (seed, epoch, "data-order") and the
 * augmentation of a batch from (seed, step, "augment"), so a resumed run fetches exactly the
 * batch the uninterrupted run would have had at step t, without saving any generator state.
 */
import { rngFor } from '../../random/counter-rng.js';
import type { Dataset } from './dataset.js';

export interface Augmentation {
  /** Random crop: pad each side with this many black pixels, then crop back at a random offset. */
  readonly padding: number;
  /** Random horizontal flip with probability 1/2 (off for data where mirroring changes meaning). */
  readonly flip: boolean;
}

export interface Batch {
  /** NHWC, normalised with the dataset's per-channel mean and std. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  /** Dataset indices of the samples, in batch order. */
  readonly indices: Int32Array;
}

/** The order of the samples in `epoch`: a seeded permutation of 0..size-1. */
export function epochPermutation(seed: number, epoch: number, size: number): Int32Array {
  const order = Array.from({ length: size }, (_, i) => i);
  return Int32Array.from(rngFor(seed, epoch, 'data-order').shuffle(order));
}

interface Placement {
  readonly dy: number;
  readonly dx: number;
  readonly flip: boolean;
}

/** Copies the samples into one normalised NHWC batch, cropping/flipping sample k per `place(k)`. */
function assemble(dataset: Dataset, indices: Int32Array, place?: (k: number) => Placement): Batch {
  const [h, w, c] = dataset.inputShape;
  const { mean, std } = dataset.normalization;
  const images = new Float32Array(indices.length * h * w * c);
  const labels = new Int32Array(indices.length);
  indices.forEach((index, k) => {
    const { image, label } = dataset.get(index);
    labels[k] = label;
    const p = place?.(k) ?? { dy: 0, dx: 0, flip: false };
    const base = k * h * w * c;
    for (let y = 0; y < h; y++) {
      const sy = y + p.dy;
      for (let x = 0; x < w; x++) {
        const sx = (p.flip ? w - 1 - x : x) + p.dx;
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        for (let ch = 0; ch < c; ch++) {
          // Padding is black (0) before normalisation, as with torchvision's RandomCrop.
          const v = inside ? image[(sy * w + sx) * c + ch]! : 0;
          images[base + (y * w + x) * c + ch] = (v - mean[ch]!) / std[ch]!;
        }
      }
    }
  });
  return { images, labels, indices };
}

export interface TrainingBatchesOptions {
  readonly seed: number;
  readonly batchSize: number;
  /** Omit for no augmentation. */
  readonly augmentation?: Augmentation;
}

export class TrainingBatches {
  /** Whole batches per epoch; the remainder of an epoch is dropped, as the authors' loaders do. */
  readonly stepsPerEpoch: number;
  private readonly seed: number;
  private readonly batchSize: number;
  private readonly augmentation: Augmentation | undefined;
  private cached: { epoch: number; order: Int32Array } | undefined;

  constructor(
    readonly dataset: Dataset,
    options: TrainingBatchesOptions,
  ) {
    this.seed = options.seed;
    this.batchSize = options.batchSize;
    this.augmentation = options.augmentation;
    this.stepsPerEpoch = Math.floor(dataset.size / options.batchSize);
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || this.stepsPerEpoch === 0) {
      throw new RangeError(`batch size ${options.batchSize} needs 1 <= batch size <= dataset size ${dataset.size}`);
    }
  }

  /** The batch of global training step `step` (epoch = floor(step / stepsPerEpoch)). */
  batchAtStep(step: number): Batch {
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be a non-negative integer, got ${step}`);
    const epoch = Math.floor(step / this.stepsPerEpoch);
    const start = (step % this.stepsPerEpoch) * this.batchSize;
    const indices = this.order(epoch).slice(start, start + this.batchSize);
    const aug = this.augmentation;
    if (aug === undefined || (aug.padding === 0 && !aug.flip)) return assemble(this.dataset, indices);
    const rng = rngFor(this.seed, step, 'augment');
    const placements = Array.from(indices, () => ({
      dy: aug.padding > 0 ? rng.nextInt(2 * aug.padding + 1) - aug.padding : 0,
      dx: aug.padding > 0 ? rng.nextInt(2 * aug.padding + 1) - aug.padding : 0,
      flip: aug.flip && rng.next() < 0.5,
    }));
    return assemble(this.dataset, indices, (k) => placements[k]!);
  }

  /** The batches of one epoch, in order (the same batches batchAtStep gives for its steps). */
  *batchesForEpoch(epoch: number): Generator<Batch> {
    for (let b = 0; b < this.stepsPerEpoch; b++) yield this.batchAtStep(epoch * this.stepsPerEpoch + b);
  }

  private order(epoch: number): Int32Array {
    if (this.cached?.epoch !== epoch) this.cached = { epoch, order: epochPermutation(this.seed, epoch, this.dataset.size) };
    return this.cached.order;
  }
}

/** The whole dataset in index order, unaugmented; the last batch may be smaller. */
export function* evaluationBatches(dataset: Dataset, batchSize: number): Generator<Batch> {
  for (let start = 0; start < dataset.size; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, dataset.size - start) }, (_, k) => start + k);
    yield assemble(dataset, indices);
  }
}
