/**
 * The tree snapshot the API serves: a subtree from a path prefix down to a depth limit, every
 * node with n, S, mean reward, its (layer, op) G and its current training sampling probability
 * among its siblings; plus the top-k leaves, the G table and size figures. Built synchronously
 * on the projection's view (reads are serialized per experiment), as plain data.
 */
import type { ExperimentView } from '../../experiments/experiment-projections.js';
import { trainingProbabilities, type TrainingPolicy } from '../../tree/policy.js';
import { gTable, nodeAt, topLeaves, treeStats } from '../../tree/queries.js';
import { requireTree } from '../../tree/state.js';
import { pathKey, type TreeStore } from '../../tree/store.js';

export interface SnapshotNode {
  /** op index at this node's layer (null for the root) */
  readonly op: number | null;
  /** op indices from the root, dot-separated ('' for the root) */
  readonly path: string;
  readonly n: number;
  readonly s: number;
  readonly qbar: number;
  /** G[layer][op] shared by every node with this (layer, op); null for the root */
  readonly g: number | null;
  /** training sampling probability softmax(U / tau) among its siblings; null for the root */
  readonly probability: number | null;
  readonly removed: boolean;
  /** created children (also counted below the depth limit) */
  readonly childCount: number;
  /** omitted below the depth limit */
  children?: SnapshotNode[];
}

export interface SnapshotQuery {
  readonly path: readonly number[];
  /** levels below the path node to include (0 = the node only) */
  readonly depth: number;
  /** the k best leaves by mean reward (0 = none) */
  readonly top: number;
  /** hide subtree nodes with fewer visits */
  readonly minVisits: number;
}

export function treeSnapshot(view: ExperimentView, query: SnapshotQuery) {
  const { config, tree } = requireTree(view.tree);
  const node = nodeAt(view.tree, query.path);
  const subtree = node.exists ? walk(tree, query, config.hyperparameters) : { root: null, nodes: 0 };
  return {
    experimentId: view.id,
    position: view.position,
    version: view.version,
    phase: view.tree.phase,
    step: view.tree.step,
    lastRewardedStep: view.tree.lastRewardedStep,
    movingAverageLoss: view.tree.movingAverageLoss,
    stats: omitPosition(treeStats(view.tree)),
    path: [...query.path],
    depth: query.depth,
    node: omitPosition(node),
    subtree: subtree.root,
    subtreeNodes: subtree.nodes,
    topLeaves: query.top > 0 ? topLeaves(view.tree, query.top).leaves : [],
    g: gTable(view.tree).g,
  };
}

/**
 * Builds the subtree with plain loops over the store (no per-child score objects): a full
 * snapshot of a 100k-node tree must cost milliseconds per thousand nodes, not seconds.
 */
function walk(tree: TreeStore, query: SnapshotQuery, policy: TrainingPolicy): { root: SnapshotNode; nodes: number } {
  const path = query.path;
  const id = tree.find(path);
  let count = 0;
  const build = (nodeId: number, key: string, op: number | null, probability: number | null, removed: boolean, level: number): SnapshotNode => {
    count++;
    const depth = tree.depth[nodeId]!;
    const start = depth < tree.numLayers ? tree.childStart[nodeId]! : -1;
    const kids: number[] = [];
    if (start >= 0) {
      for (let o = 0; o < tree.opCounts[depth]!; o++) {
        const c = tree.children[start + o]!;
        if (c >= 0 && tree.n[c]! >= query.minVisits) kids.push(o);
      }
    }
    const n = tree.n[nodeId]!;
    const node: SnapshotNode = {
      op,
      path: key,
      n,
      s: tree.s[nodeId]!,
      qbar: n > 0 ? tree.s[nodeId]! / n : 0,
      g: op === null ? null : tree.gAt(depth - 1, op),
      probability,
      removed,
      childCount: kids.length,
    };
    if (level < query.depth) {
      const probabilities = kids.length > 0 ? trainingProbabilities(tree, nodeId, depth, policy) : [];
      node.children = kids.map((o) => {
        const c = tree.children[start + o]!;
        return build(c, key === '' ? String(o) : `${key}.${o}`, o, probabilities[o]!, removed || tree.removed[c] === 1, level + 1);
      });
    }
    return node;
  };
  const depth0 = path.length;
  // The subtree's root gets its probability from its own parent's distribution.
  const probability = depth0 === 0 ? null : trainingProbabilities(tree, tree.find(path, depth0 - 1), depth0 - 1, policy)[path[depth0 - 1]!]!;
  const root = build(id, pathKey(path), depth0 === 0 ? null : path[depth0 - 1]!, probability, tree.isRemoved(id), 0);
  return { root, nodes: count };
}

function omitPosition<T extends { position: number }>(value: T): Omit<T, 'position'> {
  const { position: _position, ...rest } = value;
  return rest;
}

/** A snapshot serialized once, with the position it reflects (for the headers). */
export interface RenderedSnapshot {
  readonly json: string;
  readonly position: number;
  readonly version: number;
}

const CACHE_ENTRIES = 64;
/** Larger answers (near-full trees) are not kept: they are rare and would hold megabytes each. */
const CACHE_MAX_BYTES = 1 << 20;

/**
 * Serialized snapshots by (experiment, stream version, query). A view at a given version never
 * changes, so many clients polling the same view cost one walk and one JSON.stringify per new
 * event instead of one per request.
 */
export class SnapshotCache {
  private readonly entries = new Map<string, RenderedSnapshot>();

  render(view: ExperimentView, query: SnapshotQuery, extra: Record<string, unknown>): RenderedSnapshot {
    const key = `${view.id}\u0000${view.version}\u0000${JSON.stringify([query.path, query.depth, query.top, query.minVisits, extra])}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const rendered = { json: JSON.stringify({ ...extra, ...treeSnapshot(view, query) }), position: view.position, version: view.version };
    if (rendered.json.length <= CACHE_MAX_BYTES) {
      this.entries.set(key, rendered);
      if (this.entries.size > CACHE_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    return rendered;
  }
}
