/**
 * What a user asks for when creating an experiment (HTTP body, CLI flags, presets), and its
 * translation into the `ExperimentCreated` payload. Defaults are the authors' released
 * configuration (DESIGN §2). Pure: no framework imports.
 */
import { z } from 'zod';
import type { EventData } from '../events/catalog.js';
import { findUnstorable } from '../kernel/storable-text.js';
import { rngFor } from '../random/counter-rng.js';
import { assertWindowReachable, drawConstrainedPath } from '../tree/space-model.js';
import { AUTHORS_WINDOW_PHASES, flopsWindowPhasesSchema, flopsWindowSchema } from '../tree/flops-window.js';
import { hyperparametersSchema } from '../tree/hyperparameters.js';
import { scheduleSchema } from '../tree/schedule.js';
import { searchConfigSchema } from '../search/config.js';
import { isNamedSpace, namedSpaceDefinitionSchema, searchSpaceDefinitionSchema } from '../search-space/definition.js';
import { DomainError } from '../kernel/domain-error.js';
import { presets, scaledSpace } from '../search-space/presets.js';
import { SearchSpace } from '../search-space/search-space.js';

export const AUTHORS_HYPERPARAMETERS = Object.freeze({ beta: 0.96, gamma: 0.96, c1: 0.1, c2: 0.2, tau: 0.0025, nThreshold: 6, maxRedraws: 100 });
export const DEFAULT_SEARCH = Object.freeze({
  strategy: 'hierarchical' as const,
  candidates: 20,
  topK: 10,
  bnRecalibrationBatches: 20,
  /** the authors' `ignore_none=True`: the search uses only nodes training created */
  scope: 'trained' as const,
  /** the authors' `update_data_freq: 1000` */
  updateDataFreq: 1000,
});

/**
 * Bounds that keep a created experiment runnable and every request's work bounded (a tell
 * costs O(layers x ops), a sample O(layers x ops x redraws)): far above the paper's spaces
 * (ImageNet: 21 layers x 13 ops, 1280 channels, 224 px) and settings, far below what would
 * overflow a number or freeze the event loop.
 */
export const CREATION_BOUNDS = Object.freeze({
  layers: 64,
  opsPerLayer: 32,
  stemBlocks: 16,
  channels: 16_384,
  inputSize: 1024,
  inputChannels: 16,
  classes: 100_000,
  kernel: 15,
  expansion: 16,
  minWidthMultiplier: 1 / 64,
  minTau: 1e-6,
  maxTau: 1e6,
  maxC: 1e3,
  maxNThreshold: 1e6,
  maxRedraws: 10_000,
  steps: 100_000_000,
  candidates: 100_000,
});
const B = CREATION_BOUNDS;

const presetSpaceRequest = z
  .object({
    preset: z.enum(Object.keys(presets) as [string, ...string[]]),
    widthMultiplier: z.number().min(B.minWidthMultiplier).max(4).optional(),
    inputSize: z.number().int().min(8).max(1024).optional(),
    inputChannels: z.number().int().positive().max(16).optional(),
    classes: z.number().int().min(2).max(100_000).optional(),
  })
  .strict();

const stepCount = z.number().int().nonnegative().max(B.steps);
const epochScheduleRequest = z
  .object({
    stepsPerEpoch: stepCount.min(1),
    warmupEpochs: stepCount,
    treeBuildingEpochs: stepCount,
    mctEpochs: stepCount,
  })
  .strict();

const boundedSchedule = scheduleSchema.extend({ stepsPerEpoch: stepCount.min(1), warmupSteps: stepCount, treeBuildingSteps: stepCount, mctSteps: stepCount }).strict();

/** Finite values the sampling policy can work with (tau 1e-320 or C = 1e308 give NaN probabilities). */
const boundedHyperparameters = hyperparametersSchema
  .extend({
    c1: z.number().min(0).max(B.maxC),
    c2: z.number().min(0).max(B.maxC),
    tau: z.number().min(B.minTau).max(B.maxTau),
    nThreshold: z.number().min(0).max(B.maxNThreshold),
    maxRedraws: z.number().int().positive().max(B.maxRedraws),
  })
  .partial()
  .strict();

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const boundedOp = z.discriminatedUnion('type', [
  z.object({ type: z.literal('identity') }).strict(),
  z.object({ type: z.literal('mbconv'), kernel: int(1, B.kernel), expansion: z.number().positive().max(B.expansion), se: z.boolean() }).strict(),
]);
const boundedChannels = int(1, B.channels);

/** A user-defined space within the bounds (the full validation is `SearchSpace.fromDefinition`). */
const boundedSpaceDefinition = searchSpaceDefinitionSchema
  .extend({
    name: z.string().min(1).max(200),
    input: z.object({ size: int(1, B.inputSize), channels: int(1, B.inputChannels) }).strict(),
    stem: z
      .object({
        channels: boundedChannels,
        kernel: int(1, B.kernel),
        stride: z.union([z.literal(1), z.literal(2)]),
        blocks: z
          .array(z.object({ kernel: int(1, B.kernel), expansion: z.number().positive().max(B.expansion), se: z.boolean(), channels: boundedChannels, stride: z.union([z.literal(1), z.literal(2)]) }).strict())
          .max(B.stemBlocks)
          .optional(),
      })
      .strict(),
    layers: z
      .array(z.object({ channels: boundedChannels, stride: z.union([z.literal(1), z.literal(2)]), ops: z.array(boundedOp).min(1).max(B.opsPerLayer) }).strict())
      .min(1)
      .max(B.layers),
    head: z.object({ channels: boundedChannels, classes: int(2, B.classes) }).strict(),
    stages: z.array(z.tuple([int(0, B.layers), int(0, B.layers)])).max(B.layers).optional(),
  })
  .strict();

/** A space of named choices (a tabular benchmark's cell), within the same bounds. */
const boundedNamedSpaceDefinition = namedSpaceDefinitionSchema
  .extend({
    name: z.string().min(1).max(200),
    layers: z
      .array(z.object({ ops: z.array(z.object({ type: z.literal('named'), name: z.string().min(1).max(100) }).strict()).min(1).max(B.opsPerLayer) }).strict())
      .min(1)
      .max(B.layers),
  })
  .strict();

export const createExperimentRequestSchema = z
  .object({
    name: z.string().min(1).max(200),
    searchSpace: z.union([presetSpaceRequest, boundedSpaceDefinition, boundedNamedSpaceDefinition]),
    hyperparameters: boundedHyperparameters.optional(),
    schedule: z.union([boundedSchedule, epochScheduleRequest]),
    flopsWindow: flopsWindowSchema.nullable().optional(),
    /** the training phases the window applies to (default: the paper's tree building and MCT sampling) */
    flopsWindowPhases: flopsWindowPhasesSchema.optional(),
    dataset: z.object({ kind: z.string().min(1).max(100) }).catchall(z.unknown()),
    training: z.record(z.string(), z.unknown()).optional(),
    search: searchConfigSchema.extend({ candidates: int(1, B.candidates), topK: int(1, B.candidates), bnRecalibrationBatches: int(0, B.candidates) }).partial().strict().optional(),
    seed: z.number().int().nonnegative().max(2 ** 32 - 1).optional(),
    /** claim order of pool workers: higher first, then oldest first (default 0); recorded as ExperimentPrioritized */
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  })
  .strict();

export type CreateExperimentRequest = z.input<typeof createExperimentRequestSchema>;

/** A request that failed validation; `field` is the dotted path of the first problem. */
export class ExperimentRequestError extends DomainError {
  declare readonly field: string;

  constructor(field: string, reason: string) {
    super('invalid', 'ExperimentRequestError', reason, field);
  }
}

/**
 * Image shapes of the datasets the in-process trainer reads (src/training/data): a space that
 * does not fit its dataset would be accepted and fail only when training starts. Other kinds
 * (an external trainer's own data) are not checked.
 */
const DATASET_SHAPES: Record<string, { size?: number; channels: number; classes?: number }> = {
  'fashion-mnist': { size: 28, channels: 1, classes: 10 },
  cifar10: { size: 32, channels: 3, classes: 10 },
  'image-folder': { channels: 3 },
};

function assertDatasetFits(dataset: Record<string, unknown>, space: { input: { size: number; channels: number }; head: { classes: number } }): void {
  const shape = DATASET_SHAPES[String(dataset.kind)];
  if (!shape) return;
  const size = shape.size ?? (typeof dataset.size === 'number' ? dataset.size : space.input.size);
  if (size !== space.input.size || shape.channels !== space.input.channels) {
    throw new ExperimentRequestError('dataset', `${String(dataset.kind)} gives ${size}x${size}x${shape.channels} images; the search space expects ${space.input.size}x${space.input.size}x${space.input.channels} (set searchSpace.inputSize / inputChannels, or choose another dataset)`);
  }
  if (shape.classes !== undefined && shape.classes !== space.head.classes) {
    throw new ExperimentRequestError('dataset', `${String(dataset.kind)} has ${shape.classes} classes; the search space's head has ${space.head.classes}`);
  }
}

/**
 * The FLOPs window must hold an architecture the sampler can find: inside the space's range
 * and reached by the sampler's constrained fallback draw (a window in a gap between sums is
 * refused too), so every later ask can sample.
 */
function assertWindowSamplable(space: SearchSpace, window: { min: number; max: number } | null, seed: number): void {
  if (!window) return;
  try {
    assertWindowReachable(space, window);
  } catch (error) {
    throw new ExperimentRequestError('flopsWindow', (error as Error).message);
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    const drawn = drawConstrainedPath(space, rngFor(seed, attempt, 'creation/flops-window'), window);
    if (drawn) {
      const flops = space.flops(drawn.architecture);
      if (flops >= window.min && flops <= window.max) return;
    }
  }
  throw new ExperimentRequestError('flopsWindow', `no architecture of the space was found with FLOPs in [${window.min}, ${window.max}]`);
}

/** A space of named ops has no FLOPs: a window (training or search) on it is refused. */
function assertNoWindow(space: string, training: unknown, search: unknown): void {
  for (const [field, window] of [['flopsWindow', training], ['search.flopsWindow', search]] as const) {
    if (window !== undefined && window !== null) {
      throw new ExperimentRequestError(field, `the search space '${space}' has named ops without FLOPs (no cost model), so it cannot have a FLOPs window`);
    }
  }
}

/** Validates a creation request and builds the `ExperimentCreated` payload. */
export function toExperimentCreated(request: unknown): EventData<'ExperimentCreated'> {
  const unstorable = findUnstorable(request, '');
  if (unstorable) throw new ExperimentRequestError(unstorable.field || '(body)', unstorable.reason);
  const parsed = createExperimentRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ExperimentRequestError(issue.path.map(String).join('.') || '(body)', issue.message);
  }
  const r = parsed.data;
  const definition =
    'preset' in r.searchSpace
      ? scaledSpace(presets[r.searchSpace.preset]!, {
          widthMultiplier: r.searchSpace.widthMultiplier,
          inputSize: r.searchSpace.inputSize,
          inputChannels: r.searchSpace.inputChannels,
          classes: r.searchSpace.classes,
        })
      : r.searchSpace;
  let space: SearchSpace;
  try {
    space = SearchSpace.fromDefinition(definition);
  } catch (error) {
    const field = (error as { field?: string }).field;
    throw new ExperimentRequestError(`searchSpace${field ? `.${field}` : ''}`, (error as Error).message);
  }
  if (isNamedSpace(definition)) {
    assertNoWindow(definition.name, r.flopsWindow, r.search?.flopsWindow);
    if (r.dataset.kind !== 'tabular') throw new ExperimentRequestError('dataset', `the search space '${definition.name}' has named ops and describes no network: only a tabular benchmark (dataset kind 'tabular') can answer for it, not '${r.dataset.kind}'`);
  } else {
    assertDatasetFits(r.dataset, definition);
  }
  const schedule =
    'warmupEpochs' in r.schedule
      ? {
          stepsPerEpoch: r.schedule.stepsPerEpoch,
          warmupSteps: r.schedule.warmupEpochs * r.schedule.stepsPerEpoch,
          treeBuildingSteps: r.schedule.treeBuildingEpochs * r.schedule.stepsPerEpoch,
          mctSteps: r.schedule.mctEpochs * r.schedule.stepsPerEpoch,
        }
      : r.schedule;
  const steps = schedule.warmupSteps + schedule.treeBuildingSteps + schedule.mctSteps;
  if (steps === 0) throw new ExperimentRequestError('schedule', 'the schedule has no training steps');
  if (steps > B.steps) throw new ExperimentRequestError('schedule', `${steps} training steps exceed the limit of ${B.steps}`);
  assertWindowSamplable(space, r.flopsWindow ?? null, r.seed ?? 0);
  return {
    name: r.name,
    searchSpace: definition as EventData<'ExperimentCreated'>['searchSpace'],
    hyperparameters: { ...AUTHORS_HYPERPARAMETERS, ...r.hyperparameters },
    schedule,
    flopsWindow: r.flopsWindow ?? null,
    flopsWindowPhases: r.flopsWindowPhases ?? [...AUTHORS_WINDOW_PHASES],
    dataset: r.dataset,
    training: r.training ?? {},
    search: { ...DEFAULT_SEARCH, ...r.search },
    seed: r.seed ?? 0,
  };
}
