/**
 * The authors' child scores and the softmax draw, shared by training sampling, hierarchical
 * selection, the read models and what-if analyses (one definition of each formula).
 *
 * Training (UCT + node communication):
 *   U_i = Qbar_i + C1 * sqrt(ln(n_p) / (n_i + 0.1)) + C2 * G[l][i]   (exploration 0 when n_p = 0)
 * Search (hierarchical selection, no exploration):
 *   U_i = Qbar_i + C2 * G[l][i]
 * Probabilities: softmax(U / tau), the max of U / tau subtracted before exponentiating.
 * Removed children get probability 0. Children never created have n = 0, S = 0; in a search of
 * scope 'trained' they do not exist (probability 0), as the authors' `ignore_none=True`.
 */
import type { RemovalScope, TreeStore } from './store.js';

export interface ChildScore {
  readonly op: number;
  /** node id, -1 when never created */
  readonly id: number;
  readonly n: number;
  readonly s: number;
  readonly qbar: number;
  readonly exploration: number;
  readonly g: number;
  readonly u: number;
  readonly probability: number;
  readonly removed: boolean;
}

export interface TrainingPolicy {
  readonly c1: number;
  readonly c2: number;
  readonly tau: number;
}

export interface SelectionPolicy {
  readonly c2: number;
  readonly tau: number;
}

/** Scores of the children of node `id` (depth `depth`; id -1 = never created) for training. */
export function trainingChildScores(tree: TreeStore, id: number, depth: number, policy: TrainingPolicy): ChildScore[] {
  return childScores(tree, id, depth, policy.c1, policy.c2, policy.tau);
}

/**
 * Scores of the children of node `id` for hierarchical selection (no exploration term), among
 * the children available to a search of `scope` (default 'any': only removed ones excluded).
 */
export function selectionChildScores(tree: TreeStore, id: number, depth: number, policy: SelectionPolicy, scope: RemovalScope = 'any'): ChildScore[] {
  return childScores(tree, id, depth, 0, policy.c2, policy.tau, scope);
}

function childScores(tree: TreeStore, id: number, depth: number, c1: number, c2: number, tau: number, scope: RemovalScope = 'any'): ChildScore[] {
  const count = tree.opCounts[depth]!;
  const np = id >= 0 ? tree.n[id]! : 0;
  const logNp = np > 0 ? Math.log(np) : 0;
  const u = new Array<number>(count);
  const mask = new Array<boolean>(count);
  const rows: Omit<ChildScore, 'probability'>[] = [];
  for (let op = 0; op < count; op++) {
    const c = tree.child(id, op);
    const n = c >= 0 ? tree.n[c]! : 0;
    const s = c >= 0 ? tree.s[c]! : 0;
    const qbar = n > 0 ? s / n : 0;
    const exploration = np > 0 && c1 !== 0 ? c1 * Math.sqrt(logNp / (n + 0.1)) : 0;
    const g = tree.g[tree.gOffsets[depth]! + op]!;
    const score = qbar + exploration + c2 * g;
    const removed = c >= 0 && tree.removed[c] === 1;
    u[op] = score;
    mask[op] = tree.childAvailable(id, op, scope);
    rows.push({ op, id: c, n, s, qbar, exploration, g, u: score, removed });
  }
  const p = softmax(u, tau, mask);
  return rows.map((r, i) => ({ ...r, probability: p[i]! }));
}

/**
 * Only the training probabilities of the children of node `id` (the sampler's hot path; the
 * same arithmetic as `trainingChildScores`, without building score objects).
 */
export function trainingProbabilities(tree: TreeStore, id: number, depth: number, policy: TrainingPolicy): number[] {
  const count = tree.opCounts[depth]!;
  const np = id >= 0 ? tree.n[id]! : 0;
  const logNp = np > 0 ? Math.log(np) : 0;
  const c1 = policy.c1;
  const c2 = policy.c2;
  const gOff = tree.gOffsets[depth]!;
  const start = id >= 0 ? tree.childStart[id]! : -1;
  const u = new Array<number>(count);
  const mask = new Array<boolean>(count);
  for (let op = 0; op < count; op++) {
    const c = start >= 0 ? tree.children[start + op]! : -1;
    const n = c >= 0 ? tree.n[c]! : 0;
    const s = c >= 0 ? tree.s[c]! : 0;
    const qbar = n > 0 ? s / n : 0;
    const exploration = np > 0 && c1 !== 0 ? c1 * Math.sqrt(logNp / (n + 0.1)) : 0;
    u[op] = qbar + exploration + c2 * tree.g[gOff + op]!;
    mask[op] = !(c >= 0 && tree.removed[c] === 1);
  }
  return softmax(u, policy.tau, mask);
}

/**
 * softmax(values / tau) over the entries where `mask` is true (others get 0), subtracting the
 * max of values / tau first. All-masked input gives all zeros.
 */
export function softmax(values: readonly number[], tau: number, mask?: readonly boolean[]): number[] {
  const z = values.map((v) => v / tau);
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) if ((!mask || mask[i]) && z[i]! > max) max = z[i]!;
  const out = new Array<number>(z.length).fill(0);
  if (max === -Infinity) return out;
  let sum = 0;
  for (let i = 0; i < z.length; i++) {
    if (mask && !mask[i]) continue;
    const e = Math.exp(z[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/**
 * Index drawn from `probabilities` with a uniform `r` in [0, 1): the first index whose
 * cumulative probability exceeds r; rounding leftovers go to the last positive entry.
 */
export function drawIndex(probabilities: readonly number[], r: number): number {
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p <= 0) continue;
    last = i;
    cum += p;
    if (r < cum) return i;
  }
  if (last < 0) throw new RangeError('cannot draw from an all-zero distribution');
  return last;
}
