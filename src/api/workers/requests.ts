/** The request schemas of the ask/tell endpoints (bodies strict: an unknown key is a 400 naming it). */
import { z } from 'zod';
import { safeText } from '../shared/validation.js';

const leaseId = safeText(200);

export const acquireLeaseSchema = z
  .object({
    workerId: safeText(200),
    /** lease lifetime without a heartbeat; default 30 s */
    ttlMs: z.number().int().min(1_000).max(3_600_000).optional(),
  })
  .strict();

export const leaseSchema = z.object({ leaseId }).strict();

export const leaseParamsSchema = z.object({ id: safeText(200), leaseId });

export const tellSchema = z
  .object({
    leaseId,
    step: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    // Any number, so NaN / ±Infinity (1e400 in JSON) reach the domain check and get its 422.
    loss: z.custom<number>((value) => typeof value === 'number', { message: 'expected a number' }),
  })
  .strict();
