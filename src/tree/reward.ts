/**
 * Loss -> reward decisions (DESIGN §2), producing the payloads the projection applies verbatim.
 *
 *   Ltilde_t = beta * Ltilde_{t-1} + (1 - beta) * L_t     (from 0 when tree building starts)
 *   Q_t      = Ltilde_t / L_t
 *   root and every node on a_t's path: n += 1, S += Q_t
 *   G[l][a_t[l]] = gamma * G[l][a_t[l]] + (1 - gamma) * Q_t   for every layer l
 *
 * Warm-up steps are recorded too (the trainer's resume logic relies on one RewardRecorded per
 * step) but leave the tree alone: their RewardRecorded carries movingAverageLoss = the current
 * Ltilde (0: it starts when tree building starts) and reward 0, and no VisitCountsUpdated is
 * produced.
 */
import { DomainError } from '../kernel/domain-error.js';
import type { Architecture } from '../search-space/definition.js';
import type { TreeEvent, TreeEventData } from './events.js';
import type { Hyperparameters } from './hyperparameters.js';
import { phaseUpdatesTree, type Schedule, trainingPhaseAt } from './schedule.js';
import { requireTree, type TreeState } from './state.js';
import type { TreeStore } from './store.js';

export interface RewardDecision {
  readonly reward: TreeEventData<'RewardRecorded'>;
  /** null in warm-up */
  readonly visits: TreeEventData<'VisitCountsUpdated'> | null;
  /** the events to append, in order (RewardRecorded, then VisitCountsUpdated when present) */
  readonly events: TreeEvent[];
}

/** Raised when rewards would be recorded out of step order (Ltilde is sequential). */
function rewardOrderError(message: string): DomainError {
  return new DomainError('unprocessable', 'RewardOrderError', message);
}

export function assertValidLoss(loss: unknown): asserts loss is number {
  if (typeof loss !== 'number' || !Number.isFinite(loss) || loss <= 0) {
    throw new DomainError('unprocessable', 'InvalidLossError', `must be a finite number greater than 0, got ${String(loss)}`, 'loss');
  }
}

/**
 * The events for training step `step`'s loss. The state must hold the rewards of steps
 * 0..step-1 and nothing later; when it holds the sample of `step`, the architecture must match.
 */
export function decideReward(
  state: TreeState,
  step: number,
  architecture: Architecture,
  loss: number,
  overrides: { readonly hyperparameters?: Partial<Hyperparameters>; readonly schedule?: Schedule } = {},
): RewardDecision {
  assertValidLoss(loss);
  const { config, tree } = requireTree(state);
  const hp = { ...config.hyperparameters, ...overrides.hyperparameters };
  const schedule = overrides.schedule ?? config.schedule;
  if (state.lastRewardedStep !== step - 1) {
    throw rewardOrderError(`the reward of step ${step} must follow step ${step - 1}; the tree has rewards up to step ${state.lastRewardedStep}`);
  }
  checkArchitecture(tree, architecture);
  if (state.lastSampled && state.lastSampled.step === step && !sameArchitecture(state.lastSampled.architecture, architecture)) {
    throw rewardOrderError(`step ${step} sampled [${state.lastSampled.architecture.join(',')}], the reward is for [${architecture.join(',')}]`);
  }
  const phase = trainingPhaseAt(schedule, step);
  if (phase === null) throw new RangeError(`step ${step} is past the end of training`);
  const arch = [...architecture];
  if (!phaseUpdatesTree(phase)) {
    const reward = { step, architecture: arch, loss, movingAverageLoss: state.movingAverageLoss, reward: 0 };
    return { reward, visits: null, events: [{ type: 'RewardRecorded', data: reward }] };
  }
  const movingAverageLoss = hp.beta * state.movingAverageLoss + (1 - hp.beta) * loss;
  const q = movingAverageLoss / loss;
  const reward = { step, architecture: arch, loss, movingAverageLoss, reward: q };
  const visits = backupUpdate(tree, arch, q, hp.gamma, step, 'training');
  return {
    reward,
    visits,
    events: [
      { type: 'RewardRecorded', data: reward },
      { type: 'VisitCountsUpdated', data: visits },
    ],
  };
}

/**
 * The VisitCountsUpdated payload backing reward `q` up `architecture`'s path: absolute new n
 * and S for the root and every node on the path (root first), and the new G value of every
 * (layer, op) on the path.
 */
export function backupUpdate(
  tree: TreeStore,
  architecture: Architecture,
  q: number,
  gamma: number,
  step: number,
  source: 'training' | 'search',
): TreeEventData<'VisitCountsUpdated'> {
  const nodes: { path: number[]; n: number; s: number }[] = [];
  let id = 0;
  for (let d = 0; d <= architecture.length; d++) {
    if (d > 0) id = tree.child(id, architecture[d - 1]!);
    const n = id >= 0 ? tree.n[id]! : 0;
    const s = id >= 0 ? tree.s[id]! : 0;
    nodes.push({ path: architecture.slice(0, d), n: n + 1, s: s + q });
  }
  const g = architecture.map((op, layer) => ({ layer, op, value: gamma * tree.gAt(layer, op) + (1 - gamma) * q }));
  return { step, source, nodes, g };
}

export function checkArchitecture(tree: TreeStore, architecture: Architecture): void {
  if (architecture.length !== tree.numLayers) {
    throw new RangeError(`architecture has ${architecture.length} layers, the space has ${tree.numLayers}`);
  }
  for (let l = 0; l < architecture.length; l++) {
    const op = architecture[l]!;
    if (!Number.isInteger(op) || op < 0 || op >= tree.opCounts[l]!) {
      throw new RangeError(`architecture[${l}] = ${op} is out of range (0..${tree.opCounts[l]! - 1})`);
    }
  }
}

export function sameArchitecture(a: Architecture, b: Architecture): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
