/**
 * What the algorithm core needs from a search space. `SearchSpace`
 * (src/search-space/search-space.ts) satisfies it structurally; tests use tiny fakes.
 */
import { DomainError } from '../kernel/domain-error.js';
import type { Rng } from '../random/counter-rng.js';
import type { Architecture } from '../search-space/definition.js';
import type { FlopsWindow } from './flops-window.js';

export interface SpaceModel {
  readonly numLayers: number;
  readonly opCounts: readonly number[];
  /** FLOPs (multiply-accumulates) in the same unit as the FLOPs window */
  flops(architecture: Architecture): number;
  params(architecture: Architecture): number;
}

/** Throws unless the space and the tree agree on layers and ops. */
export function checkSpaceMatches(space: SpaceModel, opCounts: readonly number[]): void {
  if (space.numLayers !== opCounts.length || space.opCounts.some((c, l) => c !== opCounts[l])) {
    throw new RangeError(`search space (${space.opCounts.join('x')}) does not match the experiment's tree (${opCounts.join('x')})`);
  }
}

/** Uniform path: one op per layer, each layer uniform. Probabilities are 1 / N_l. */
export function drawUniformPath(space: SpaceModel, rng: Rng): number[] {
  const arch = new Array<number>(space.numLayers);
  for (let l = 0; l < space.numLayers; l++) arch[l] = rng.nextInt(space.opCounts[l]!);
  return arch;
}

export function uniformProbabilities(space: SpaceModel): number[][] {
  return space.opCounts.map((c) => new Array<number>(c).fill(1 / c));
}

/**
 * Per-layer FLOPs decomposition `flops(a) = base + sum_l delta[l][a_l]`, derived by
 * differencing (one `flops` call per (layer, op)). In the shipped spaces FLOPs are additive
 * per layer (every layer's input and output shapes are fixed); the decomposition is only used
 * to steer the fallback draw, whose result is always re-checked with the real `flops`.
 */
export interface FlopsDecomposition {
  readonly base: number;
  readonly delta: readonly (readonly number[])[];
  /** minSuffix[l] = sum over layers >= l of the smallest delta */
  readonly minSuffix: readonly number[];
  readonly maxSuffix: readonly number[];
}

const decompositions = new WeakMap<SpaceModel, FlopsDecomposition>();

export function flopsDecomposition(space: SpaceModel): FlopsDecomposition {
  const cached = decompositions.get(space);
  if (cached) return cached;
  const zeros = new Array<number>(space.numLayers).fill(0);
  const base = space.flops(zeros);
  const delta = space.opCounts.map((count, l) => {
    const row: number[] = [];
    for (let op = 0; op < count; op++) {
      const a = zeros.slice();
      a[l] = op;
      row.push(op === 0 ? 0 : space.flops(a) - base);
    }
    return row;
  });
  const minSuffix = new Array<number>(space.numLayers + 1).fill(0);
  const maxSuffix = new Array<number>(space.numLayers + 1).fill(0);
  for (let l = space.numLayers - 1; l >= 0; l--) {
    minSuffix[l] = minSuffix[l + 1]! + Math.min(...delta[l]!);
    maxSuffix[l] = maxSuffix[l + 1]! + Math.max(...delta[l]!);
  }
  const d = { base, delta, minSuffix, maxSuffix };
  decompositions.set(space, d);
  return d;
}

/**
 * Feasibility-constrained uniform descent: at each layer, uniform among the ops that can still
 * reach the window given the per-layer FLOPs bounds of the remaining layers. Always lands in
 * the window when FLOPs are additive and the window contains a reachable value; returns null
 * when no op is feasible at some layer (the window is empty for this space).
 */
export function drawConstrainedPath(
  space: SpaceModel,
  rng: Rng,
  window: FlopsWindow,
): { architecture: number[]; probabilities: number[][] } | null {
  const d = flopsDecomposition(space);
  const arch: number[] = [];
  const probabilities: number[][] = [];
  let partial = d.base;
  for (let l = 0; l < space.numLayers; l++) {
    const feasible: number[] = [];
    const row = d.delta[l]!;
    for (let op = 0; op < row.length; op++) {
      const lo = partial + row[op]! + d.minSuffix[l + 1]!;
      const hi = partial + row[op]! + d.maxSuffix[l + 1]!;
      if (hi >= window.min && lo <= window.max) feasible.push(op);
    }
    if (feasible.length === 0) return null;
    const op = feasible[rng.nextInt(feasible.length)]!;
    const probs = new Array<number>(row.length).fill(0);
    for (const f of feasible) probs[f] = 1 / feasible.length;
    probabilities.push(probs);
    arch.push(op);
    partial += row[op]!;
  }
  return { architecture: arch, probabilities };
}

/**
 * Throws a `FlopsWindowError` when the window lies outside the FLOPs range of the space (by the
 * per-layer bounds), so a search refuses to start instead of removing every leaf.
 */
export function assertWindowReachable(space: SpaceModel, window: FlopsWindow | null | undefined): void {
  if (!window) return;
  const d = flopsDecomposition(space);
  const lo = d.base + d.minSuffix[0]!;
  const hi = d.base + d.maxSuffix[0]!;
  if (window.max < lo || window.min > hi) {
    throw flopsWindowError(`the FLOPs window [${window.min}, ${window.max}] is outside the space's range [${lo}, ${hi}]`);
  }
}

/** No architecture can be found inside the FLOPs window. */
export function flopsWindowError(message: string): DomainError {
  return new DomainError('unprocessable', 'FlopsWindowError', message);
}
