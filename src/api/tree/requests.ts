/** The request schemas of the tree, node-ledger and G endpoints. */
import { z } from 'zod';
import { asOfQuery, positionQuery, queryInteger, safeText, treePathSchema } from '../shared/validation.js';

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
