/**
 * Ready-made experiment requests. `demo` is what `npm start` runs on a CPU in minutes; the
 * others reproduce the authors' settings (DESIGN §2) for people with the data and a GPU.
 */
import type { CreateExperimentRequest } from './experiment-request.js';

export interface PresetOptions {
  readonly name?: string;
  readonly seed?: number;
  /** where CIFAR-10 binary batches / ImageNet class folders live */
  readonly dataDir?: string;
  /**
   * Training images of a dataset after the validation hold-out, when the caller can count them
   * (e.g. the CLI opening the dataset); default: the published sizes in `TRAINING_IMAGES`.
   */
  readonly trainingImages?: (dataset: { readonly kind: string; readonly dir?: string }, heldOut: number) => number;
}

/** Published training-split sizes (images) of the presets' datasets. */
export const PUBLISHED_TRAINING_IMAGES: Readonly<Record<string, number>> = Object.freeze({
  'fashion-mnist': 70_000, // the package bundles train + test
  cifar10: 50_000,
  'image-folder': 1_281_167, // ImageNet-1k train
});

/**
 * Steps per epoch as the loader counts them: floor(training images after the hold-out / batch)
 * (loader.ts drops the last partial batch). demo: (70,000 - 2,000) / 32 = 2125; CIFAR-10:
 * (50,000 - 5,000) / 256 = 175; ImageNet: (1,281,167 - 50,000) / 1024 = 1202.
 */
export function stepsPerEpochOf(
  dataset: { readonly kind: string; readonly dir?: string },
  heldOutPerClass: number,
  classes: number,
  batchSize: number,
  options: PresetOptions = {},
): number {
  const heldOut = heldOutPerClass * classes;
  const images = options.trainingImages ? options.trainingImages(dataset, heldOut) : PUBLISHED_TRAINING_IMAGES[dataset.kind]! - heldOut;
  const steps = Math.floor(images / batchSize);
  if (!(steps >= 1)) throw new Error(`dataset ${dataset.kind} has ${images} training images: fewer than one batch of ${batchSize}`);
  return steps;
}

export const experimentPresets: Record<string, (options: PresetOptions) => CreateExperimentRequest> = {
  /** NAS-Bench-Macro space at a quarter width on 28x28 Fashion-MNIST: all phases + search on 2 CPU cores. */
  demo: (o) => ({
    name: o.name ?? 'demo: NAS-Bench-Macro x0.25 on Fashion-MNIST',
    searchSpace: { preset: 'nas-bench-macro', widthMultiplier: 0.25, inputSize: 28, inputChannels: 1, classes: 10 },
    // 1500 steps of batch 32 split like the authors' CIFAR schedule (25 / 5 / 20 of 50 epochs).
    schedule: { stepsPerEpoch: stepsPerEpochOf({ kind: 'fashion-mnist' }, 200, 10, 32, o), warmupSteps: 750, treeBuildingSteps: 150, mctSteps: 600 },
    dataset: { kind: 'fashion-mnist' },
    training: { batchSize: 32, lrMax: 0.1, lrMin: 0, weightDecay: 5e-4, augmentation: null, validationPerClass: 200, evaluationBatchSize: 250 },
    search: { strategy: 'hierarchical', candidates: 10, topK: 5, bnRecalibrationBatches: 20 },
    seed: o.seed ?? 0,
  }),
  /** The authors' CIFAR-10 recipe on NAS-Bench-Macro: batch 256, 50 epochs (25 warm-up, 5 tree building, 20 MCT). */
  'nas-bench-macro-cifar10': (o) => ({
    name: o.name ?? 'NAS-Bench-Macro on CIFAR-10 (authors recipe)',
    searchSpace: { preset: 'nas-bench-macro' },
    schedule: { stepsPerEpoch: stepsPerEpochOf({ kind: 'cifar10', dir: o.dataDir }, 500, 10, 256, o), warmupEpochs: 25, treeBuildingEpochs: 5, mctEpochs: 20 },
    dataset: { kind: 'cifar10', dir: requireDataDir(o, 'cifar10') },
    training: { batchSize: 256, lrMax: 0.1, lrMin: 0, weightDecay: 5e-4, augmentation: { padding: 4, flip: true }, validationPerClass: 500 },
    search: { strategy: 'hierarchical', candidates: 20, topK: 10, bnRecalibrationBatches: 20 },
    seed: o.seed ?? 0,
  }),
  /**
   * The paper's ImageNet run: 120 epochs (60 unconstrained uniform / 25 uniform in the window /
   * 35 MCT in the window), batch 1024, training window [280M, 380M], search window [320M, 330M].
   */
  imagenet: (o) => ({
    name: o.name ?? 'MCT-NAS ImageNet (paper recipe)',
    searchSpace: { preset: 'imagenet' },
    schedule: { stepsPerEpoch: stepsPerEpochOf({ kind: 'image-folder', dir: o.dataDir }, 50, 1000, 1024, o), warmupEpochs: 60, treeBuildingEpochs: 25, mctEpochs: 35 },
    flopsWindow: { min: 280e6, max: 380e6 },
    flopsWindowPhases: ['tree-building', 'mct-sampling'],
    dataset: { kind: 'image-folder', dir: requireDataDir(o, 'imagenet'), size: 224 },
    training: { batchSize: 1024, lrMax: 0.12, lrMin: 1e-5, weightDecay: 4e-5, labelSmoothing: 0.1, augmentation: { padding: 0, flip: true }, validationPerClass: 50 },
    search: { strategy: 'hierarchical', candidates: 20, topK: 10, bnRecalibrationBatches: 20, flopsWindow: { min: 320e6, max: 330e6 } },
    seed: o.seed ?? 0,
  }),
};

function requireDataDir(options: PresetOptions, preset: string): string {
  if (!options.dataDir) throw new Error(`preset '${preset}' needs --data-dir (the dataset is read from your disk)`);
  return options.dataDir;
}

export function presetRequest(preset: string, options: PresetOptions = {}): CreateExperimentRequest {
  const make = experimentPresets[preset];
  if (!make) throw new Error(`unknown preset '${preset}': expected one of ${Object.keys(experimentPresets).join(', ')}`);
  return make(options);
}
