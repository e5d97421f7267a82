/**
 * What a user asks for when creating an experiment (HTTP body, CLI flags, presets), and its
 * translation into the `ExperimentCreated` payload. Defaults are the authors' released
 * configuration (DESIGN §2). Pure: no framework imports.
 */
import { z } from 'zod';
import type { EventData } from '../events/catalog.js';
import { AUTHORS_WINDOW_PHASES, flopsWindowPhasesSchema, flopsWindowSchema } from '../tree/flops-window.js';
import { hyperparametersSchema } from '../tree/hyperparameters.js';
import { scheduleSchema } from '../tree/schedule.js';
import { searchConfigSchema } from '../search/config.js';
import { searchSpaceDefinitionSchema } from '../search-space/definition.js';
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

const presetSpaceRequest = z
  .object({
    preset: z.enum(Object.keys(presets) as [string, ...string[]]),
    widthMultiplier: z.number().positive().max(4).optional(),
    inputSize: z.number().int().min(8).max(1024).optional(),
    inputChannels: z.number().int().positive().max(16).optional(),
    classes: z.number().int().min(2).max(100_000).optional(),
  })
  .strict();

const epochScheduleRequest = z
  .object({
    stepsPerEpoch: z.number().int().positive(),
    warmupEpochs: z.number().int().nonnegative(),
    treeBuildingEpochs: z.number().int().nonnegative(),
    mctEpochs: z.number().int().nonnegative(),
  })
  .strict();

export const createExperimentRequestSchema = z
  .object({
    name: z.string().min(1).max(200),
    searchSpace: z.union([presetSpaceRequest, searchSpaceDefinitionSchema.strict()]),
    hyperparameters: hyperparametersSchema.partial().strict().optional(),
    schedule: z.union([scheduleSchema.strict(), epochScheduleRequest]),
    flopsWindow: flopsWindowSchema.nullable().optional(),
    /** the training phases the window applies to (default: the paper's tree building and MCT sampling) */
    flopsWindowPhases: flopsWindowPhasesSchema.optional(),
    dataset: z.object({ kind: z.string().min(1).max(100) }).catchall(z.unknown()),
    training: z.record(z.string(), z.unknown()).optional(),
    search: searchConfigSchema.partial().strict().optional(),
    seed: z.number().int().nonnegative().max(2 ** 32 - 1).optional(),
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

/** Validates a creation request and builds the `ExperimentCreated` payload. */
export function toExperimentCreated(request: unknown): EventData<'ExperimentCreated'> {
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
  try {
    SearchSpace.fromDefinition(definition);
  } catch (error) {
    const field = (error as { field?: string }).field;
    throw new ExperimentRequestError(`searchSpace${field ? `.${field}` : ''}`, (error as Error).message);
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
  if (schedule.warmupSteps + schedule.treeBuildingSteps + schedule.mctSteps === 0) {
    throw new ExperimentRequestError('schedule', 'the schedule has no training steps');
  }
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
