/**
 * The FLOPs window an experiment's architectures must fit (inclusive bounds, in the search
 * space's FLOPs unit). Pure: zod only.
 */
import { z } from 'zod';

export const flopsWindowSchema = z
  .object({ min: z.number().nonnegative(), max: z.number().positive() })
  .refine((w) => w.min <= w.max, { message: 'min must not exceed max', path: ['min'] });
export type FlopsWindow = z.infer<typeof flopsWindowSchema>;

/** Inclusive window test; no window means everything fits. */
export function inWindow(flops: number, window: FlopsWindow | null | undefined): boolean {
  return !window || (flops >= window.min && flops <= window.max);
}

/** Training phases a FLOPs window can apply to. */
export const windowPhaseSchema = z.enum(['warmup', 'tree-building', 'mct-sampling']);
export type WindowPhase = z.infer<typeof windowPhaseSchema>;

/** The phases the training window constrains; no duplicates. */
export const flopsWindowPhasesSchema = z
  .array(windowPhaseSchema)
  .refine((phases) => new Set(phases).size === phases.length, { message: 'phases must not repeat' });

/** The paper's policy: warm-up unconstrained, tree building and MCT sampling within the window. */
export const AUTHORS_WINDOW_PHASES: readonly WindowPhase[] = Object.freeze(['tree-building', 'mct-sampling']);
/** What v1 ExperimentCreated events meant: the window applied in every phase. */
export const ALL_WINDOW_PHASES: readonly WindowPhase[] = Object.freeze(['warmup', 'tree-building', 'mct-sampling']);
