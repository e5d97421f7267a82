/**
 * The MCT-NAS hyperparameters (DESIGN §2) as recorded in `ExperimentCreated`: the reward and
 * backup rule (beta, gamma), the sampling policy (C1, C2, tau), hierarchical selection
 * (n_thrd) and the FLOPs-window redraw budget. Pure: zod only.
 */
import { z } from 'zod';

const probability = z.number().min(0).max(1);

export const hyperparametersSchema = z.object({
  /** moving-average factor of the training loss */
  beta: probability,
  /** node-communication decay */
  gamma: probability,
  /** UCT exploration weight */
  c1: z.number().nonnegative(),
  /** node-communication weight */
  c2: z.number().nonnegative(),
  /** softmax temperature */
  tau: z.number().positive(),
  /** hierarchical node selection visit threshold per child */
  nThreshold: z.number().nonnegative(),
  /** whole-path redraws to fit a FLOPs window */
  maxRedraws: z.number().int().positive(),
});
export type Hyperparameters = z.infer<typeof hyperparametersSchema>;
