/** The request schemas of the experiment endpoints (creation's is the domain's, in experiments/). */
import { z } from 'zod';

export const reasonSchema = z.object({ reason: z.string().max(1000).optional() }).strict();

/** Pool claim order: higher first, then oldest first. */
export const prioritySchema = z.object({ priority: z.number().int().min(-1_000_000).max(1_000_000), reason: z.string().max(1000).optional() }).strict();
