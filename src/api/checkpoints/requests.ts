/** The request schemas of the checkpoint endpoints. */
import { z } from 'zod';
import { experimentIdSchema, queryInteger, safeText } from '../shared/validation.js';

export const checkpointParamsSchema = z.object({ id: experimentIdSchema, step: queryInteger(0, Number.MAX_SAFE_INTEGER) });
export const pinBodySchema = z.object({ reason: safeText(1000).optional() }).strict();
