/**
 * The search settings an experiment records (`ExperimentCreated.search`) and the one list of
 * search strategy names: the registry (registry.ts), the event catalogue, the HTTP API, the
 * CLI and the benchmarks all take the names from here. Pure: zod and the tree's config.
 */
import { z } from 'zod';
import { parseOrThrow } from '../kernel/parse.js';
import { searchScopeSchema, shortlistSchema, type TreeEventData } from '../tree/events.js';
import { flopsWindowSchema } from '../tree/flops-window.js';

export const strategyNames = ['hierarchical', 'random', 'evolutionary'] as const;
export const strategyNameSchema = z.enum(strategyNames);
export type StrategyName = z.infer<typeof strategyNameSchema>;

export const searchConfigSchema = z.object({
  strategy: strategyNameSchema,
  /** distinct candidates fully evaluated (K) */
  candidates: z.number().int().positive(),
  topK: z.number().int().positive(),
  /** training batches used to re-estimate BatchNorm statistics per candidate */
  bnRecalibrationBatches: z.number().int().nonnegative(),
  /** which tree nodes the hierarchical search may use: 'trained' (the authors') or 'any' */
  scope: searchScopeSchema,
  /** consecutive validation-batch evaluations sharing one batch (the authors' update_data_freq: 1000) */
  updateDataFreq: z.number().int().positive(),
  /** the shortlist option of the hierarchical search (propose factor x K, score on `batches` validation batches, evaluate the best K); absent or null: off */
  shortlist: shortlistSchema.nullable().optional(),
  /** the search's FLOPs window (the authors search in a narrower one than they train in); absent: the training window, null: none */
  flopsWindow: flopsWindowSchema.nullable().optional(),
});
export type SearchConfig = z.infer<typeof searchConfigSchema>;

/**
 * The search settings of a recorded experiment. The tree records them without reading them (as
 * the trainer's own settings); the catalogue validated them when the experiment was created, so
 * this parse fails only on a history the catalogue did not write.
 */
export function searchConfigOf(experiment: Pick<TreeEventData<'ExperimentCreated'>, 'search'>): SearchConfig {
  return parseOrThrow(searchConfigSchema, experiment.search, { root: 'search', code: 'ProjectionError', kind: 'internal' });
}
