/** The request schemas of the experiment endpoints (creation's is the domain's, in experiments/). */
import { z } from 'zod';
import { consistencyQuery, positionQuery, queryInteger } from '../shared/validation.js';

export const reasonSchema = z.object({ reason: z.string().max(1000).optional() }).strict();

/** Pool claim order: higher first, then oldest first. */
export const prioritySchema = z.object({ priority: z.number().int().min(-1_000_000).max(1_000_000), reason: z.string().max(1000).optional() }).strict();

export const DEFAULT_LIST_PAGE = 100;
export const MAX_LIST_PAGE = 1000;

/** `GET /experiments`: a page of experiments created after position `after` (an unknown parameter is a 400). */
export const listQuerySchema = z
  .object({
    after: positionQuery.optional(),
    limit: queryInteger(1, MAX_LIST_PAGE).optional(),
    ...consistencyQuery,
  })
  .strict();
