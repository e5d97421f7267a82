/**
 * The real StepTrainer: a TensorFlow.js weight-sharing supernet over the experiment's search
 * space, fed by a dataset reader, with the experiment's optimiser settings. Everything is
 * derived from the ExperimentCreated payload, so a resumed process rebuilds the same trainer.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import type { Architecture, SearchSpaceDefinition } from '../search-space/definition.js';
import { networkDefinition } from '../search-space/search-space.js';
import { searchConfigOf } from '../search/config.js';
import type { CandidateEvaluator } from '../search/evaluator.js';
import type { TreeEventData } from '../tree/events.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { type BackendSelection, selectBackend } from './backend.js';
import { cifar10Dataset } from './data/cifar10.js';
import { type Dataset, splitTrainVal } from './data/dataset.js';
import { fashionMnistDataset } from './data/fashion-mnist.js';
import { imageFolderDataset } from './data/image-folder.js';
import { type Batch, evaluationBatches, TrainingBatches } from './data/loader.js';
import type { StepTrainer } from './step-trainer.js';
import { cosineLr, Supernet } from './supernet.js';

/** `training` settings of an experiment (ExperimentCreated.training), with defaults. */
export const trainingSettingsSchema = z
  .object({
    batchSize: z.number().int().positive().max(4096).default(64),
    lrMax: z.number().positive().default(0.1),
    lrMin: z.number().nonnegative().default(0),
    momentum: z.number().min(0).max(1).default(0.9),
    weightDecay: z.number().nonnegative().default(5e-4),
    labelSmoothing: z.number().min(0).max(1).default(0),
    augmentation: z.object({ padding: z.number().int().nonnegative(), flip: z.boolean() }).nullable().default({ padding: 2, flip: false }),
    /** validation samples held out of the training set per class */
    validationPerClass: z.number().int().positive().default(100),
    /**
     * Seed of the validation split (default: the experiment's seed, as before). Set it to compare
     * supernets of different seeds with one stand-alone table on the same held-out images.
     */
    validationSplitSeed: z.number().int().nonnegative().optional(),
    evaluationBatchSize: z.number().int().positive().default(256),
    backend: z.string().optional(),
  })
  .strict();
export type TrainingSettings = z.infer<typeof trainingSettingsSchema>;

/** `dataset` of an experiment: which reader, where. */
export const datasetSettingsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fashion-mnist'), perClass: z.number().int().positive().optional(), dir: z.string().optional() }).strict(),
  z.object({ kind: z.literal('cifar10'), dir: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('image-folder'), dir: z.string().min(1), size: z.number().int().positive().optional() }).strict(),
]);
export type DatasetSettings = z.infer<typeof datasetSettingsSchema>;

export function openDataset(settings: DatasetSettings, space: SearchSpaceDefinition): Dataset {
  switch (settings.kind) {
    case 'fashion-mnist':
      return fashionMnistDataset({ perClass: settings.perClass, dir: settings.dir });
    case 'cifar10':
      return cifar10Dataset(settings.dir);
    case 'image-folder':
      return imageFolderDataset(settings.dir, { size: settings.size ?? space.input.size });
  }
}

export class SupernetTrainer implements StepTrainer {
  private readonly batches: TrainingBatches;
  private readonly validation: Batch[];
  private readonly totalSteps: number;
  private readonly recalibrationBatches: number;

  private constructor(
    readonly backend: BackendSelection,
    private readonly supernet: Supernet,
    train: Dataset,
    validation: Dataset,
    private readonly settings: TrainingSettings,
    experiment: TreeEventData<'ExperimentCreated'>,
  ) {
    this.batches = new TrainingBatches(train, { seed: experiment.seed, batchSize: settings.batchSize, augmentation: settings.augmentation ?? undefined });
    this.validation = [...evaluationBatches(validation, settings.evaluationBatchSize)];
    this.totalSteps = totalTrainingSteps(experiment.schedule);
    this.recalibrationBatches = Math.max(1, searchConfigOf(experiment).bnRecalibrationBatches);
  }

  static async create(experiment: TreeEventData<'ExperimentCreated'>, log?: (line: string) => void): Promise<SupernetTrainer> {
    const settings = trainingSettingsSchema.parse(experiment.training);
    const datasetSettings = datasetSettingsSchema.parse(experiment.dataset);
    const space = networkDefinition(experiment.searchSpace);
    const backend = await selectBackend(settings.backend ?? process.env['TF_BACKEND'], log);
    const dataset = openDataset(datasetSettings, space);
    const [h, w, c] = dataset.inputShape;
    if (h !== space.input.size || w !== space.input.size || c !== space.input.channels || dataset.classes !== space.head.classes) {
      throw new Error(
        `dataset ${datasetSettings.kind} gives ${h}x${w}x${c} images in ${dataset.classes} classes; the search space expects ${space.input.size}x${space.input.size}x${space.input.channels} and ${space.head.classes} classes`,
      );
    }
    const { train, val } = splitTrainVal(dataset, { perClass: settings.validationPerClass, seed: settings.validationSplitSeed ?? experiment.seed });
    const supernet = new Supernet(space, {
      seed: experiment.seed,
      momentum: settings.momentum,
      weightDecay: settings.weightDecay,
      labelSmoothing: settings.labelSmoothing,
    });
    return new SupernetTrainer(backend, supernet, train, val, settings, experiment);
  }

  async trainStep(step: number, architecture: Architecture): Promise<number> {
    // The step holds this thread until it is done: let the event loop run first (heartbeats,
    // signals, and on the service thread the in-flight commit, which PGlite runs without a
    // macrotask turn and the pg client must write to its socket to progress beside the step).
    await yieldToEventLoop();
    const batch = this.batches.batchAtStep(step);
    const lr = cosineLr(step, this.totalSteps, this.settings.lrMax, this.settings.lrMin);
    return this.supernet.trainStep(architecture, batch.images, batch.labels, lr);
  }

  saveState(): Uint8Array {
    return this.supernet.saveWeights();
  }

  loadState(bytes: Uint8Array): void {
    this.supernet.loadWeights(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  evaluator(): CandidateEvaluator {
    return {
      // Batch `batch` of the held-out split (cycling), scored with the training criterion
      // (label smoothing included, as the authors' train_evaluator uses the model's own loss).
      validationBatchLoss: (architecture, batch) => {
        const data = this.validation[batch % this.validation.length]!;
        return this.supernet.evaluateBatch(architecture, data.images, data.labels).criterionLoss;
      },
      fullValidation: (architecture, candidate) => {
        // BN statistics re-estimated on N training batches (the authors use 20), taken past the
        // training steps so the choice does not depend on which candidates came before.
        const n = this.recalibrationBatches;
        const recalibration = Array.from({ length: n }, (_, i) => this.batches.batchAtStep(this.totalSteps + candidate * n + i));
        // Restored afterwards: each evaluation must not depend on the ones before it, or a
        // resumed search (which replays recorded evaluations) would see different statistics.
        const saved = this.supernet.saveWeights();
        try {
          this.supernet.recalibrateBatchNorm(architecture, recalibration);
          return this.validate(architecture);
        } finally {
          this.supernet.loadWeights(saved);
        }
      },
    };
  }

  /** Top-1/top-5 (percent) and mean loss over the whole validation split. */
  private validate(architecture: Architecture): { top1: number; top5: number; loss: number } {
    let loss = 0;
    let correct = 0;
    let top5 = 0;
    let count = 0;
    for (const batch of this.validation) {
      const r = this.supernet.evaluateBatch(architecture, batch.images, batch.labels);
      loss += r.loss * r.count;
      correct += r.correct;
      top5 += r.top5Correct;
      count += r.count;
    }
    return { top1: (100 * correct) / count, top5: (100 * top5) / count, loss: loss / count };
  }

  dispose(): void {
    this.supernet.dispose();
  }
}
