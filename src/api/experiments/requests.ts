/** The request schemas of the experiment endpoints (creation's is the domain's, in experiments/). */
import { z } from 'zod';

export const reasonSchema = z.object({ reason: z.string().max(1000).optional() }).strict();
