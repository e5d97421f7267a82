/** The request schemas of the ask/tell endpoints (bodies strict: an unknown key is a 400 naming it). */
import { z } from 'zod';
import { bodyInteger, safeText } from '../shared/validation.js';

const leaseId = safeText(200);

export const acquireLeaseSchema = z
  .object({
    workerId: safeText(200),
    /** lease lifetime without a heartbeat; default 30 s */
    ttlMs: bodyInteger(1_000, 3_600_000, 'a duration in milliseconds (an integer)').optional(),
  })
  .strict();

export const leaseSchema = z.object({ leaseId }).strict();

export const leaseParamsSchema = z.object({ id: safeText(200), leaseId });

export const tellSchema = z
  .object({
    leaseId,
    step: bodyInteger(0, Number.MAX_SAFE_INTEGER, 'a step (an integer)'),
    // Any number, so NaN / ±Infinity (1e400 in JSON) reach the domain check and get its 422.
    loss: z.custom<number>((value) => typeof value === 'number', { message: 'expected a number' }),
    /** true: also sample the next step, committed with this reward in one append, and answer it as `next` (null once training is over) */
    next: z.boolean().optional(),
  })
  .strict();

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
  z.object({ leaseId, kind: z.literal('validation-batch'), searchId: safeText(200), evaluation: bodyInteger(0, 2 ** 31 - 1), loss: anyNumber }).strict(),
  z
    .object({
      leaseId,
      kind: z.literal('full-validation'),
      searchId: safeText(200),
      candidate: bodyInteger(0, 2 ** 31 - 1),
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
    step: bodyInteger(0, Number.MAX_SAFE_INTEGER, 'a step (an integer)'),
    epoch: bodyInteger(0, Number.MAX_SAFE_INTEGER).optional(),
    /** where every worker can read the file (a shared mount or an object-store URL) */
    location: safeText(4096),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits'),
    size: bodyInteger(0, Number.MAX_SAFE_INTEGER, 'a size in bytes (an integer)'),
  })
  .strict();
