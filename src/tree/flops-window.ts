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
