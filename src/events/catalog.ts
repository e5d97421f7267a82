/**
 * The closed, versioned catalogue of experiment events. Each type has a runtime schema (zod)
 * and a schema version; the event store rejects unknown types and invalid payloads before
 * anything is written. Pure module: no Nest, TypeORM or tfjs.
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const nonNegInt = z.number().int().nonnegative();
const probability = z.number().min(0).max(1);
export const architectureSchema = z.array(nonNegInt).min(1);

export const phaseSchema = z.enum(['warmup', 'tree-building', 'mct-sampling', 'search', 'done']);
export type Phase = z.infer<typeof phaseSchema>;

export const samplerSchema = z.enum(['uniform', 'uniform-flops', 'mct', 'replay', 'external']);

const opSpecSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('identity') }),
  z.object({
    type: z.literal('mbconv'),
    kernel: z.number().int().positive(),
    expansion: z.number().positive(),
    se: z.boolean(),
  }),
]);

export const searchSpaceDefinitionSchema = z.object({
  name: z.string().min(1),
  input: z.object({ size: z.number().int().positive(), channels: z.number().int().positive() }),
  stem: z.object({
    channels: z.number().int().positive(),
    kernel: z.number().int().positive(),
    stride: z.union([z.literal(1), z.literal(2)]),
    blocks: z
      .array(
        z.object({
          kernel: z.number().int().positive(),
          expansion: z.number().positive(),
          se: z.boolean(),
          channels: z.number().int().positive(),
          stride: z.union([z.literal(1), z.literal(2)]),
        }),
      )
      .optional(),
  }),
  layers: z
    .array(
      z.object({
        channels: z.number().int().positive(),
        stride: z.union([z.literal(1), z.literal(2)]),
        ops: z.array(opSpecSchema).min(1),
      }),
    )
    .min(1),
  head: z.object({ channels: z.number().int().positive(), classes: z.number().int().min(2) }),
  se: z.object({ ratio: z.number().positive().max(1), reference: z.enum(['input', 'expanded']) }).optional(),
  activation: z.enum(['relu', 'relu6', 'swish']).optional(),
  stages: z.array(z.tuple([nonNegInt, nonNegInt])).optional(),
});

export const hyperparametersSchema = z.object({
  /** moving-average factor of the training loss */
  beta: probability,
  /** node-communication decay */
  gamma: probability,
  /** UCT exploration weight */
  c1: z.number().nonnegative(),
  /** node-communication weight */
  c2: z.number().nonnegative(),
  /** softmax temperature */
  tau: z.number().positive(),
  /** hierarchical node selection visit threshold per child */
  nThreshold: z.number().nonnegative(),
  /** whole-path redraws to fit a FLOPs window */
  maxRedraws: z.number().int().positive(),
});
export type Hyperparameters = z.infer<typeof hyperparametersSchema>;

/** Steps are the unit; epochs are for people. Phase boundaries are step indices. */
export const scheduleSchema = z.object({
  stepsPerEpoch: z.number().int().positive(),
  warmupSteps: nonNegInt,
  treeBuildingSteps: nonNegInt,
  mctSteps: nonNegInt,
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const flopsWindowSchema = z
  .object({ min: z.number().nonnegative(), max: z.number().positive() })
  .refine((w) => w.min <= w.max, { message: 'min must not exceed max', path: ['min'] });
export type FlopsWindow = z.infer<typeof flopsWindowSchema>;

export const searchConfigSchema = z.object({
  strategy: z.enum(['hierarchical', 'random', 'evolutionary']),
  /** distinct candidates fully evaluated (K) */
  candidates: z.number().int().positive(),
  topK: z.number().int().positive(),
  /** training batches used to re-estimate BatchNorm statistics per candidate */
  bnRecalibrationBatches: nonNegInt,
});
export type SearchConfig = z.infer<typeof searchConfigSchema>;

const checkpointRef = z.object({ step: nonNegInt, location: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

const nodeUpdate = z.object({
  /** op indices from the root; [] is the root */
  path: z.array(nonNegInt),
  n: nonNegInt,
  s: finite,
});
const gUpdate = z.object({ layer: nonNegInt, op: nonNegInt, value: finite });

/** Every event type with its current schema version and payload schema. */
export const eventCatalog = {
  ExperimentCreated: {
    version: 1,
    schema: z.object({
      name: z.string().min(1).max(200),
      searchSpace: searchSpaceDefinitionSchema,
      hyperparameters: hyperparametersSchema,
      schedule: scheduleSchema,
      flopsWindow: flopsWindowSchema.nullable(),
      dataset: z.object({ kind: z.string().min(1) }).catchall(z.unknown()),
      /** trainer settings (optimizer, batch size, widths); free-form per trainer kind */
      training: z.record(z.string(), z.unknown()),
      search: searchConfigSchema,
      seed: z.number().int().nonnegative().max(2 ** 32 - 1),
    }),
  },
  PhaseChanged: {
    version: 1,
    schema: z.object({ step: nonNegInt, from: phaseSchema.nullable(), to: phaseSchema }),
  },
  TrainingBackendSelected: {
    version: 1,
    schema: z.object({
      backend: z.string(),
      skipped: z.array(z.object({ backend: z.string(), reason: z.string() })),
    }),
  },
  ArchitectureSampled: {
    version: 1,
    schema: z.object({
      step: nonNegInt,
      architecture: architectureSchema,
      phase: phaseSchema,
      sampler: samplerSchema,
      /** per layer, the probability of each op at the moment it was drawn */
      probabilities: z.array(z.array(probability)),
      flops: z.number().nonnegative(),
      redraws: nonNegInt,
    }),
  },
  RewardRecorded: {
    version: 1,
    schema: z.object({
      step: nonNegInt,
      architecture: architectureSchema,
      loss: finite.refine((v) => v > 0, { message: 'must be positive' }),
      movingAverageLoss: finite,
      reward: finite,
    }),
  },
  VisitCountsUpdated: {
    version: 1,
    schema: z.object({
      /** training step, or the search evaluation that caused it */
      step: nonNegInt,
      source: z.enum(['training', 'search']),
      nodes: z.array(nodeUpdate),
      g: z.array(gUpdate),
    }),
  },
  CheckpointSaved: {
    version: 1,
    schema: z.object({
      step: nonNegInt,
      epoch: nonNegInt,
      location: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      size: nonNegInt,
      streamPosition: nonNegInt,
    }),
  },
  WorkerLeaseAcquired: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1), ttlMs: z.number().int().positive(), expiresAt: z.string() }),
  },
  WorkerHeartbeat: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1), expiresAt: z.string() }),
  },
  WorkerLeaseReleased: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1) }),
  },
  WorkerLeaseExpired: {
    version: 1,
    schema: z.object({ workerId: z.string().min(1), leaseId: z.string().min(1), expiredAt: z.string(), detectedBy: z.string() }),
  },
  SearchStarted: {
    version: 1,
    schema: z.object({
      searchId: z.string().min(1),
      strategy: z.enum(['hierarchical', 'random', 'evolutionary']),
      candidates: z.number().int().positive(),
      topK: z.number().int().positive(),
      /** frozen moving-average training loss used as the validation reward reference */
      referenceLoss: finite,
      flopsWindow: flopsWindowSchema.nullable(),
    }),
  },
  ValidationBatchEvaluated: {
    version: 1,
    schema: z.object({
      searchId: z.string().min(1),
      evaluation: nonNegInt,
      architecture: architectureSchema,
      loss: finite.refine((v) => v > 0, { message: 'must be positive' }),
      reward: finite,
    }),
  },
  CandidateRemoved: {
    version: 1,
    schema: z.object({
      searchId: z.string().min(1),
      architecture: architectureSchema,
      reason: z.enum(['flops-window', 'evaluated', 'exhausted']),
    }),
  },
  CandidateEvaluated: {
    version: 1,
    schema: z.object({
      searchId: z.string().min(1),
      candidate: nonNegInt,
      architecture: architectureSchema,
      top1: z.number().min(0).max(100),
      top5: z.number().min(0).max(100).nullable(),
      loss: finite,
      flops: z.number().nonnegative(),
      params: z.number().nonnegative(),
    }),
  },
  SearchCompleted: {
    version: 1,
    schema: z.object({
      searchId: z.string().min(1),
      best: z.object({ architecture: architectureSchema, top1: z.number() }),
      top: z.array(z.object({ architecture: architectureSchema, top1: z.number() })),
      validationBatchEvaluations: nonNegInt,
    }),
  },
  ExperimentPaused: { version: 1, schema: z.object({ reason: z.string().max(1000) }) },
  ExperimentResumed: { version: 1, schema: z.object({ reason: z.string().max(1000) }) },
  ExperimentCompleted: { version: 1, schema: z.object({ step: nonNegInt }) },
  ExperimentFailed: { version: 1, schema: z.object({ error: z.string().max(10000), step: nonNegInt.nullable() }) },
} as const;

export type EventCatalog = typeof eventCatalog;
export type EventType = keyof EventCatalog;
export type EventData<T extends EventType> = z.infer<EventCatalog[T]['schema']>;

/** A domain event before it is stored: the discriminated union over the catalogue. */
export type DomainEvent = { [T in EventType]: { readonly type: T; readonly data: EventData<T> } }[EventType];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

export const eventTypes = Object.keys(eventCatalog) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(eventCatalog, type);
}

/** Raised when an event type is unknown or its payload does not match the schema. */
export class InvalidEventError extends Error {
  constructor(
    readonly eventType: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid ${eventType} event: ${field ? `field '${field}' ` : ''}${reason}`);
    this.name = 'InvalidEventError';
  }
}

/** Validates one event against the catalogue; returns the parsed payload or throws naming the field. */
export function validateEvent(type: string, data: unknown): DomainEvent {
  if (!isEventType(type)) throw new InvalidEventError(type, 'type', `unknown event type '${type}'`);
  const result = eventCatalog[type].schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InvalidEventError(type, ['data', ...issue.path.map(String)].join('.'), issue.message);
  }
  return { type, data: result.data } as DomainEvent;
}

/** Event metadata recorded with every stored event. */
export interface EventMetadata {
  readonly experimentId: string;
  readonly step?: number | null;
  readonly workerId?: string | null;
  readonly host?: string | null;
  readonly codeVersion?: string | null;
  /** position of the event this one answers */
  readonly causationId?: number | null;
  readonly [extra: string]: unknown;
}
