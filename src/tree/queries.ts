/**
 * Read models over a `TreeState` for the HTTP API: node lookup by path, children with their
 * scores and current sampling probabilities, depth-limited subtrees, top-k leaves, the G
 * table. Pure reads; every result says which stream position it reflects.
 */
import { DomainError } from '../kernel/domain-error.js';
import type { Hyperparameters } from './hyperparameters.js';
import { selectionChildScores, trainingChildScores } from './policy.js';
import { meanReward, requireTree, type TreeState } from './state.js';
import { pathKey, type TreeStore } from './store.js';

export interface NodeView {
  readonly path: number[];
  readonly key: string;
  readonly depth: number;
  /** false when the node was never created (n = 0, S = 0) */
  readonly exists: boolean;
  readonly n: number;
  readonly s: number;
  readonly qbar: number;
  /** removed by the current search (itself or an ancestor) */
  readonly removed: boolean;
  /** G[depth - 1][op] of the node's own (layer, op); null for the root */
  readonly g: number | null;
  readonly isLeaf: boolean;
}

export interface ChildView extends NodeView {
  readonly op: number;
  /** UCT exploration term (training) */
  readonly exploration: number;
  /** training score U = Qbar + C1 * sqrt(ln n_p / (n + 0.1)) + C2 * G */
  readonly u: number;
  /** current training sampling probability softmax(U / tau) */
  readonly probability: number;
  /** hierarchical selection score Qbar + C2 * G and its softmax probability */
  readonly selectionScore: number;
  readonly selectionProbability: number;
}

export interface SubtreeNode {
  readonly op: number | null;
  readonly key: string;
  readonly n: number;
  readonly s: number;
  readonly qbar: number;
  readonly removed: boolean;
  /** created children only; omitted below the depth limit */
  readonly children?: SubtreeNode[];
  /** number of created children (also below the depth limit) */
  readonly childCount: number;
}

export interface LeafView {
  readonly architecture: number[];
  readonly key: string;
  readonly n: number;
  readonly s: number;
  readonly qbar: number;
  readonly removed: boolean;
}

/** A node path or query limit outside the tree. */
export function pathError(message: string): DomainError {
  return new DomainError('unprocessable', 'PathError', message);
}

function checkPath(tree: TreeStore, path: readonly number[]): void {
  if (path.length > tree.numLayers) throw pathError(`path has ${path.length} entries, the tree has ${tree.numLayers} layers`);
  path.forEach((op, l) => {
    if (!Number.isInteger(op) || op < 0 || op >= tree.opCounts[l]!) {
      throw pathError(`path[${l}] = ${op} is out of range (0..${tree.opCounts[l]! - 1})`);
    }
  });
}

/** Lowest existing ancestor-or-self of `path` and whether anything on the way is removed. */
function removedAlong(tree: TreeStore, path: readonly number[]): boolean {
  let id = 0;
  if (tree.removed[0]) return true;
  for (let d = 0; d < path.length; d++) {
    id = tree.child(id, path[d]!);
    if (id < 0) return false;
    if (tree.removed[id]) return true;
  }
  return false;
}

/** The node at `path` (a never-created node is reported with exists = false). */
export function nodeAt(state: TreeState, path: readonly number[]): NodeView & { readonly position: number } {
  const { tree } = requireTree(state);
  checkPath(tree, path);
  const id = tree.find(path);
  const n = id >= 0 ? tree.n[id]! : 0;
  const s = id >= 0 ? tree.s[id]! : 0;
  const depth = path.length;
  return {
    position: state.position,
    path: [...path],
    key: pathKey(path),
    depth,
    exists: id >= 0,
    n,
    s,
    qbar: meanReward(n, s),
    removed: removedAlong(tree, path),
    g: depth === 0 ? null : tree.gAt(depth - 1, path[depth - 1]!),
    isLeaf: depth === tree.numLayers,
  };
}

/** Children of the node at `path` with their scores and current sampling probabilities. */
export function childrenOf(
  state: TreeState,
  path: readonly number[],
  hyperparameters?: Partial<Hyperparameters>,
): { position: number; parent: NodeView; children: ChildView[] } {
  const { config, tree } = requireTree(state);
  checkPath(tree, path);
  if (path.length === tree.numLayers) throw pathError('a leaf has no children');
  const hp = { ...config.hyperparameters, ...hyperparameters };
  const id = tree.find(path);
  const depth = path.length;
  const training = trainingChildScores(tree, id, depth, hp);
  const selection = selectionChildScores(tree, id, depth, hp);
  const parent = nodeAt(state, path);
  const children = training.map((t, op): ChildView => {
    const childPath = [...path, op];
    return {
      op,
      path: childPath,
      key: pathKey(childPath),
      depth: depth + 1,
      exists: t.id >= 0,
      n: t.n,
      s: t.s,
      qbar: t.qbar,
      removed: parent.removed || t.removed,
      g: t.g,
      isLeaf: depth + 1 === tree.numLayers,
      exploration: t.exploration,
      u: t.u,
      probability: t.probability,
      selectionScore: selection[op]!.u,
      selectionProbability: selection[op]!.probability,
    };
  });
  return { position: state.position, parent, children };
}

/**
 * The created nodes under `path`, down to `maxDepth` levels below it (0 = the node only).
 * `minVisits` hides nodes with fewer visits.
 */
export function subtree(
  state: TreeState,
  path: readonly number[],
  options: { maxDepth?: number; minVisits?: number } = {},
): { position: number; root: SubtreeNode | null; nodes: number } {
  const { tree } = requireTree(state);
  checkPath(tree, path);
  const maxDepth = options.maxDepth ?? 2;
  const minVisits = options.minVisits ?? 0;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw pathError('maxDepth must be a non-negative integer');
  const id = tree.find(path);
  let count = 0;
  const build = (nodeId: number, rel: number, nodePath: number[], inheritedRemoved: boolean): SubtreeNode => {
    count++;
    const removed = inheritedRemoved || tree.removed[nodeId] === 1;
    const depth = tree.depth[nodeId]!;
    const kids: number[] = [];
    const start = tree.childStart[nodeId]!;
    if (start >= 0 && depth < tree.numLayers) {
      for (let op = 0; op < tree.opCounts[depth]!; op++) {
        const c = tree.children[start + op]!;
        if (c >= 0 && tree.n[c]! >= minVisits) kids.push(c);
      }
    }
    const node: SubtreeNode = {
      op: depth === 0 ? null : tree.op[nodeId]!,
      key: pathKey(nodePath),
      n: tree.n[nodeId]!,
      s: tree.s[nodeId]!,
      qbar: meanReward(tree.n[nodeId]!, tree.s[nodeId]!),
      removed,
      childCount: kids.length,
      ...(rel < maxDepth ? { children: kids.map((c) => build(c, rel + 1, [...nodePath, tree.op[c]!], removed)) } : {}),
    };
    return node;
  };
  if (id < 0) return { position: state.position, root: null, nodes: 0 };
  const root = build(id, 0, [...path], removedAlong(tree, path.slice(0, -1)));
  return { position: state.position, root, nodes: count };
}

/**
 * The k leaves with the highest mean reward (ties: more visits first, then path order).
 * `minVisits` (default 1) skips unvisited leaves; removed leaves are excluded unless asked.
 */
export function topLeaves(
  state: TreeState,
  k: number,
  options: { minVisits?: number; includeRemoved?: boolean } = {},
): { position: number; leaves: LeafView[] } {
  const { tree } = requireTree(state);
  return { position: state.position, leaves: topLeafIds(tree, k, options).map((id) => leafView(tree, id)) };
}

export function topLeafIds(tree: TreeStore, k: number, options: { minVisits?: number; includeRemoved?: boolean } = {}): number[] {
  if (!Number.isInteger(k) || k < 0) throw pathError('k must be a non-negative integer');
  const minVisits = options.minVisits ?? 1;
  const L = tree.numLayers;
  const best: number[] = [];
  const better = (a: number, b: number): boolean => {
    const qa = meanReward(tree.n[a]!, tree.s[a]!);
    const qb = meanReward(tree.n[b]!, tree.s[b]!);
    if (qa !== qb) return qa > qb;
    if (tree.n[a] !== tree.n[b]) return tree.n[a]! > tree.n[b]!;
    return comparePaths(tree.pathOf(a), tree.pathOf(b)) < 0;
  };
  if (k === 0) return best;
  for (let id = 0; id < tree.size; id++) {
    if (tree.depth[id] !== L || tree.n[id]! < minVisits) continue;
    if (!options.includeRemoved && tree.isRemoved(id)) continue;
    if (best.length === k && !better(id, best[k - 1]!)) continue;
    let i = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(id);
    while (i > 0 && better(id, best[i - 1]!)) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = id;
  }
  return best;
}

function leafView(tree: TreeStore, id: number): LeafView {
  const architecture = tree.pathOf(id);
  return {
    architecture,
    key: pathKey(architecture),
    n: tree.n[id]!,
    s: tree.s[id]!,
    qbar: meanReward(tree.n[id]!, tree.s[id]!),
    removed: tree.isRemoved(id),
  };
}

function comparePaths(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** G[l][op] as nested arrays. */
export function gTable(state: TreeState): { position: number; g: number[][] } {
  const { tree } = requireTree(state);
  const g: number[][] = [];
  for (let l = 0; l < tree.numLayers; l++) g.push(Array.from(tree.g.subarray(tree.gOffsets[l]!, tree.gOffsets[l + 1]!)));
  return { position: state.position, g };
}

/** Size figures of the tree. */
export function treeStats(state: TreeState): {
  position: number;
  nodes: number;
  leaves: number;
  removed: number;
  rootVisits: number;
  bytes: number;
} {
  const { tree } = requireTree(state);
  let leaves = 0;
  for (let id = 0; id < tree.size; id++) if (tree.depth[id] === tree.numLayers) leaves++;
  return { position: state.position, nodes: tree.size, leaves, removed: tree.removedCount, rootVisits: tree.n[0]!, bytes: tree.byteSize() };
}
