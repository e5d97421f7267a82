/** The request schemas of every endpoint (bodies strict: an unknown key is a 400 naming it). */
import { z } from 'zod';
import { type EventType, eventTypes } from '../events/catalog.js';
import { hyperparametersSchema } from '../tree/hyperparameters.js';
import { scheduleSchema } from '../tree/schedule.js';
import { strategyNameSchema } from '../search/config.js';
import { parseCheckpoint } from '../events/stored-event.js';
import { asOfQuery, consistencyQuery, csvEnum, positionQuery, queryInteger, safeText, treePathSchema } from './validation.js';

const leaseId = safeText(200);

export const acquireLeaseSchema = z
  .object({
    workerId: safeText(200),
    /** lease lifetime without a heartbeat; default 30 s */
    ttlMs: z.number().int().min(1_000).max(3_600_000).optional(),
  })
  .strict();

export const leaseSchema = z.object({ leaseId }).strict();

export const askSchema = z
  .object({
    leaseId,
    /** false: answer `done: true` once training is over (the trainer runs the search itself); default true: the service drives the search over ask/tell */
    search: z.boolean().optional(),
  })
  .strict();

const anyNumber = z.custom<number>((value) => typeof value === 'number', { message: 'expected a number' });
const accuracy = z.number().min(0).max(100);

/** The answer to a search question of `ask` (`kind` and the index it names come from the question). */
export const searchTellSchema = z.discriminatedUnion('kind', [
  z.object({ leaseId, kind: z.literal('validation-batch'), searchId: safeText(200), evaluation: z.number().int().nonnegative().max(2 ** 31 - 1), loss: anyNumber }).strict(),
  z
    .object({
      leaseId,
      kind: z.literal('full-validation'),
      searchId: safeText(200),
      candidate: z.number().int().nonnegative().max(2 ** 31 - 1),
      /** percent */
      top1: accuracy,
      top5: accuracy.nullable().optional(),
      /** mean validation loss */
      loss: anyNumber,
    })
    .strict(),
]);

export const checkpointRecordSchema = z
  .object({
    leaseId,
    /** the last step whose update the weights include (its reward is recorded) */
    step: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    epoch: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    /** where every worker can read the file (a shared mount or an object-store URL) */
    location: safeText(4096),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits'),
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  })
  .strict();

export const tellSchema = z
  .object({
    leaseId,
    step: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    // Any number, so NaN / ±Infinity (1e400 in JSON) reach the domain check and get its 422.
    loss: z.custom<number>((value) => typeof value === 'number', { message: 'expected a number' }),
  })
  .strict();

export const reasonSchema = z.object({ reason: z.string().max(1000).optional() }).strict();

export const searchStartSchema = z
  .object({
    strategy: strategyNameSchema.optional(),
    candidates: z.number().int().positive().max(100_000).optional(),
  })
  .strict();

export const replaySchema = z
  .object({
    hyperparameters: hyperparametersSchema.partial().strict().optional(),
    schedule: scheduleSchema.strict().optional(),
    /** the recorded search to compare with (default: the last hierarchical one) */
    searchId: safeText(200).optional(),
    /** replay the history as of this position */
    at: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    nodeDiffLimit: z.number().int().min(0).max(1000).optional(),
    topLeaves: z.number().int().min(0).max(100).optional(),
    skipPolicyAnalysis: z.boolean().optional(),
  })
  .strict();

export const readQuerySchema = z.object(asOfQuery).strict();

export const treeQuerySchema = z
  .object({
    path: treePathSchema.optional(),
    depth: queryInteger(0, 64).optional(),
    top: queryInteger(0, 1000).optional(),
    minVisits: positionQuery.optional(),
    ...asOfQuery,
  })
  .strict();

export const nodeParamsSchema = z.object({ id: safeText(200), path: treePathSchema });

export const ledgerQuerySchema = z
  .object({
    /** stream version of the last entry already seen */
    after: queryInteger(0, 2 ** 31 - 1).optional(),
    limit: queryInteger(1, 1000).optional(),
    ...asOfQuery,
  })
  .strict();

export const opsQuerySchema = z
  .object({
    layer: queryInteger(0, 10_000).optional(),
    op: queryInteger(0, 10_000).optional(),
    after: queryInteger(0, 2 ** 31 - 1).optional(),
    limit: queryInteger(1, 5000).optional(),
    ...asOfQuery,
  })
  .strict();

const typeList = csvEnum(eventTypes as [EventType, ...EventType[]]);

export const eventsQuerySchema = z
  .object({
    type: typeList.optional(),
    fromStep: positionQuery.optional(),
    toStep: positionQuery.optional(),
    after: queryInteger(0, 2 ** 31 - 1).optional(),
    limit: queryInteger(1, 1000).optional(),
    ...consistencyQuery,
  })
  .strict();

export const checkpointSchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    try {
      return parseCheckpoint(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

export const streamQuerySchema = z
  .object({
    type: typeList.optional(),
    /** for clients that cannot set the Last-Event-ID header; the header wins */
    lastEventId: checkpointSchema.optional(),
  })
  .strict();
