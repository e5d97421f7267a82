/** The request schemas of the search and what-if endpoints (bodies strict: an unknown key is a 400 naming it). */
import { z } from 'zod';
import { strategyNameSchema } from '../../search/config.js';
import { hyperparametersSchema } from '../../tree/hyperparameters.js';
import { scheduleSchema } from '../../tree/schedule.js';
import { bodyInteger, safeText } from '../shared/validation.js';

export const searchStartSchema = z
  .object({
    strategy: strategyNameSchema.optional(),
    candidates: bodyInteger(1, 100_000).optional(),
  })
  .strict();

export const replaySchema = z
  .object({
    hyperparameters: hyperparametersSchema.partial().strict().optional(),
    schedule: scheduleSchema.strict().optional(),
    /** the recorded search to compare with (default: the last hierarchical one) */
    searchId: safeText(200).optional(),
    /** replay the history as of this position */
    at: bodyInteger(1, Number.MAX_SAFE_INTEGER, 'an event position (an integer)').optional(),
    nodeDiffLimit: bodyInteger(0, 1000).optional(),
    topLeaves: bodyInteger(0, 100).optional(),
    skipPolicyAnalysis: z.boolean().optional(),
  })
  .strict();
