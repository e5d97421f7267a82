/**
 * The tree snapshot the API serves: a subtree from a path prefix down to a depth limit, every
 * node with n, S, mean reward, its (layer, op) G and its current training sampling probability
 * among its siblings; plus the top-k leaves, the G table and size figures. Each subtree node is
 * `{ op, path, n, s, qbar, g, probability, removed, childCount, children? }`: `op` its op index
 * (null for the root), `path` the dot-separated op indices from the root, `g` G[layer][op] (null
 * for the root), `probability` softmax(U / tau) among its siblings (null for the root),
 * `childCount` the created children (also counted below the depth limit), `children` omitted
 * below the depth limit.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ExperimentView } from '../../experiments/experiment-projections.js';
import { trainingProbabilities, type TrainingPolicy } from '../../tree/policy.js';
import { gTable, nodeAt, topLeaves, treeStats } from '../../tree/queries.js';
import { requireTree } from '../../tree/state.js';
import { pathKey, type TreeStore } from '../../tree/store.js';

export interface SnapshotQuery {
  readonly path: readonly number[];
  /** levels below the path node to include (0 = the node only) */
  readonly depth: number;
  /** the k best leaves by mean reward (0 = none) */
  readonly top: number;
  /** hide subtree nodes with fewer visits */
  readonly minVisits: number;
}

/** Views of more nodes than this are streamed from a stable copy of the tree instead of rendered and cached. */
export const STREAM_ABOVE_NODES = 5000;
/** Size of the chunks a streamed view is written in. */
const CHUNK_CHARS = 64 * 1024;

/**
 * The snapshot as JSON text, in chunks of about CHUNK_CHARS: the same document as
 * `JSON.stringify({ ...extra, ...snapshot })` (keys in the same order), written by walking the
 * tree with plain loops and an explicit stack, so memory stays flat whatever the tree's size:
 * one chunk and one stack frame per level are held, never the whole answer or an object per node.
 */
export function* snapshotJson(view: ExperimentView, query: SnapshotQuery, extra: Record<string, unknown>): Generator<string> {
  const { config, tree } = requireTree(view.tree);
  const node = nodeAt(view.tree, query.path);
  const head = JSON.stringify({
    ...extra,
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
  });
  const tail = {
    topLeaves: query.top > 0 ? topLeaves(view.tree, query.top).leaves : [],
    g: gTable(view.tree).g,
  };
  yield `${head.slice(0, -1)},"subtree":`;
  const counted = { nodes: 0 };
  if (node.exists) yield* subtreeJson(tree, query, config.hyperparameters, counted);
  else yield 'null';
  yield `,"subtreeNodes":${counted.nodes},${JSON.stringify(tail).slice(1)}`;
}

const num = (value: number | null): string => (value !== null && Number.isFinite(value) ? String(value) : 'null');

interface Frame {
  readonly key: string;
  readonly level: number;
  readonly start: number;
  readonly kids: readonly number[];
  readonly probabilities: readonly number[];
  readonly removed: boolean;
  next: number;
}

/** The subtree under `query.path` as JSON (depth-first, children in op order), counting its nodes into `counted`. */
function* subtreeJson(tree: TreeStore, query: SnapshotQuery, policy: TrainingPolicy, counted: { nodes: number }): Generator<string> {
  const path = query.path;
  const stack: Frame[] = [];
  let out = '';
  const open = (nodeId: number, key: string, op: number | null, probability: number | null, removed: boolean, level: number): void => {
    counted.nodes++;
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
    const s = tree.s[nodeId]!;
    out += `{"op":${num(op)},"path":${JSON.stringify(key)},"n":${num(n)},"s":${num(s)},"qbar":${num(n > 0 ? s / n : 0)},"g":${num(op === null ? null : tree.gAt(depth - 1, op))},"probability":${num(probability)},"removed":${removed},"childCount":${kids.length}`;
    if (level < query.depth) {
      out += ',"children":[';
      const probabilities = kids.length > 0 ? trainingProbabilities(tree, nodeId, depth, policy) : [];
      stack.push({ key, level, start, kids, probabilities, removed, next: 0 });
    } else out += '}';
  };
  const depth0 = path.length;
  // The subtree's root gets its probability from its own parent's distribution.
  const probability = depth0 === 0 ? null : trainingProbabilities(tree, tree.find(path, depth0 - 1), depth0 - 1, policy)[path[depth0 - 1]!]!;
  const root = tree.find(path);
  open(root, pathKey(path), depth0 === 0 ? null : path[depth0 - 1]!, probability, tree.isRemoved(root), 0);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.kids.length) {
      if (frame.next > 0) out += ',';
      const o = frame.kids[frame.next++]!;
      const c = tree.children[frame.start + o]!;
      open(c, frame.key === '' ? String(o) : `${frame.key}.${o}`, o, frame.probabilities[o]!, frame.removed || tree.removed[c] === 1, frame.level + 1);
    } else {
      out += ']}';
      stack.pop();
    }
    if (out.length >= CHUNK_CHARS) {
      yield out;
      out = '';
    }
  }
  yield out;
}

/** Whether the subtree the query selects has more than `limit` nodes (stops counting there). */
function exceeds(tree: TreeStore, query: SnapshotQuery, limit: number): boolean {
  let count = 0;
  const visit = (nodeId: number, level: number): boolean => {
    if (++count > limit) return true;
    if (level >= query.depth) return false;
    const depth = tree.depth[nodeId]!;
    if (depth >= tree.numLayers) return false;
    const start = tree.childStart[nodeId]!;
    if (start < 0) return false;
    for (let o = 0; o < tree.opCounts[depth]!; o++) {
      const c = tree.children[start + o]!;
      if (c >= 0 && tree.n[c]! >= query.minVisits && visit(c, level + 1)) return true;
    }
    return false;
  };
  return visit(tree.find(query.path), 0);
}

function omitPosition<T extends { position: number }>(value: T): Omit<T, 'position'> {
  const { position: _position, ...rest } = value;
  return rest;
}

/** What a read of a snapshot answers: the rendered text, "not modified", or "stream it". */
export type SnapshotAnswer =
  | { readonly kind: 'rendered'; readonly json: string; readonly etag: string; readonly position: number; readonly version: number }
  | { readonly kind: 'not-modified'; readonly etag: string; readonly position: number; readonly version: number }
  | { readonly kind: 'stream' };

const CACHE_ENTRIES = 256;

/**
 * Rendered snapshots by (experiment, stream version, query), each with an entity tag of the
 * same key. A view at a given version never changes, so many clients polling the same view cost
 * one walk and one serialization per new event instead of one per request, and a client that
 * sends the tag back (`If-None-Match`) gets 304 without anything being rendered. Views of more
 * than STREAM_ABOVE_NODES nodes are not kept (megabytes each): the caller streams them.
 */
export class SnapshotCache {
  private readonly entries = new LRUCache<string, string>({ max: CACHE_ENTRIES });

  /** Runs inside the synchronous read of the live view. */
  answer(view: ExperimentView, query: SnapshotQuery, extra: Record<string, unknown>, ifNoneMatch: string | undefined): SnapshotAnswer {
    const etag = snapshotEtag(view, query, extra);
    const { position, version } = view;
    if (matchesEtag(ifNoneMatch, etag)) return { kind: 'not-modified', etag, position, version };
    const hit = this.entries.get(etag);
    if (hit !== undefined) return { kind: 'rendered', json: hit, etag, position, version };
    const { tree } = requireTree(view.tree);
    if (nodeAt(view.tree, query.path).exists && exceeds(tree, query, STREAM_ABOVE_NODES)) return { kind: 'stream' };
    const json = [...snapshotJson(view, query, extra)].join('');
    this.entries.set(etag, json);
    return { kind: 'rendered', json, etag, position, version };
  }
}

/** A strong entity tag for the snapshot of `query` at the view's stream version. */
export function snapshotEtag(view: ExperimentView, query: SnapshotQuery, extra: Record<string, unknown>): string {
  const key = JSON.stringify([view.id, query.path, query.depth, query.top, query.minVisits, extra]);
  return `"${view.version}-${createHash('sha1').update(key).digest('base64url').slice(0, 16)}"`;
}

/** `If-None-Match` as RFC 9110 compares it for GET: weak comparison, a list, or `*`. */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
