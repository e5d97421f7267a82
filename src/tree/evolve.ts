/**
 * The tree as a pure projection of the event stream: `evolve(state, event) -> state`.
 *
 * Three entry points share one transition function (`applyEvent`), so there is exactly one
 * definition of what an event does to the tree:
 *
 * - `evolve(state, event)`: pure. Returns a new state and never mutates its input. Events that
 *   change the nodes (VisitCountsUpdated, CandidateRemoved, SearchStarted with removals) copy
 *   the store first (O(nodes), a memcpy); the others share it. Use it for single events.
 * - `fold(events, initial?)`: pure from the outside (copies `initial`'s store once), then
 *   applies every event in place. This is the rebuild path: millions of events per second.
 * - `TreeProjector`: owns a private state for a live projection (apply as events arrive);
 *   `state` hands out an immutable copy, made lazily once per change.
 *
 * Stored deltas are applied, never recomputed: VisitCountsUpdated sets the recorded n, S and G
 * values; RewardRecorded sets Ltilde to the recorded moving-average loss.
 */
import { isTreeEvent, type ProjectableEvent } from './events.js';
import {
  configFromExperiment,
  initialTreeState,
  projectionError,
  type SearchProgress,
  type TreeState,
} from './state.js';
import { TreeStore } from './store.js';

type MutableState = { -readonly [K in keyof TreeState]: TreeState[K] };

/** Pure transition: a new state with `event` applied. The input state is never mutated. */
export function evolve(state: TreeState, event: ProjectableEvent): TreeState {
  const next: MutableState = { ...state };
  if (state.tree && changesNodes(state, event)) next.tree = state.tree.clone();
  applyEvent(next, event);
  return Object.freeze(next);
}

/** Folds events over `initial` (default: the empty state). Never mutates `initial`. */
export function fold(events: Iterable<ProjectableEvent>, initial: TreeState = initialTreeState()): TreeState {
  const s: MutableState = { ...initial, tree: initial.tree ? initial.tree.clone() : null };
  // trainedTree is never mutated in place (SearchStarted clones it), so it can be shared.
  for (const event of events) applyEvent(s, event);
  return Object.freeze(s);
}

/**
 * A live projection that owns its state. `apply` mutates the private copy; `state` returns an
 * immutable copy (cached until the next change), so readers never see a later mutation.
 */
export class TreeProjector {
  private readonly s: MutableState;
  private cached: TreeState | null = null;

  constructor(initial: TreeState = initialTreeState()) {
    this.s = { ...initial, tree: initial.tree ? initial.tree.clone() : null };
  }

  apply(event: ProjectableEvent): void {
    this.cached = null;
    applyEvent(this.s, event);
  }

  /**
   * Records the global position of an event applied before it had one (a writer applies its
   * own events before their commit assigns positions): the state then equals one that applied
   * the stored event.
   */
  settle(position: number): void {
    if (position <= this.s.position) return;
    this.cached = null;
    this.s.position = position;
  }

  applyAll(events: Iterable<ProjectableEvent>): void {
    for (const event of events) this.apply(event);
  }

  /** An immutable copy of the current state. */
  get state(): TreeState {
    if (!this.cached) this.cached = Object.freeze({ ...this.s, tree: this.s.tree ? this.s.tree.clone() : null });
    return this.cached;
  }

  /**
   * The live state without copying. Valid only until the next `apply`; never keep it or pass it
   * to code that outlives the current synchronous section. Used by the search strategies that
   * read the tree between their own events.
   */
  view(): TreeState {
    return this.s;
  }
}

function changesNodes(state: TreeState, event: ProjectableEvent): boolean {
  switch (event.type) {
    case 'VisitCountsUpdated':
    case 'CandidateRemoved':
      return true;
    case 'SearchStarted':
      return true;
    default:
      return false;
  }
}

/** The single transition function. Mutates `s` (and its store): callers own both. */
function applyEvent(s: MutableState, event: ProjectableEvent): void {
  if (event.streamVersion !== undefined) {
    if (event.streamVersion <= s.streamVersion) {
      throw projectionError(event.type, `stream version ${event.streamVersion} is not after ${s.streamVersion} (duplicate or reordered event)`);
    }
    s.streamVersion = event.streamVersion;
  }
  if (event.position !== undefined) s.position = event.position;
  s.eventCount++;
  // CheckpointSaved, leases, pause/resume, backend selection...: no effect on the tree.
  if (!isTreeEvent(event)) return;

  switch (event.type) {
    case 'ExperimentCreated': {
      if (s.config) throw projectionError(event.type, 'the experiment was already created');
      const config = configFromExperiment(event.data);
      s.config = config;
      s.tree = TreeStore.create(config.opCounts);
      return;
    }
    case 'PhaseChanged':
      s.phase = event.data.to;
      return;
    case 'ArchitectureSampled': {
      const tree = need(s, event.type);
      if (event.data.architecture.length !== tree.numLayers) {
        throw projectionError(event.type, `architecture has ${event.data.architecture.length} layers, the space has ${tree.numLayers}`);
      }
      s.lastSampled = { step: event.data.step, architecture: event.data.architecture };
      if (event.data.step > s.step) s.step = event.data.step;
      return;
    }
    case 'RewardRecorded':
      need(s, event.type);
      s.movingAverageLoss = event.data.movingAverageLoss;
      s.lastRewardedStep = event.data.step;
      if (event.data.step > s.step) s.step = event.data.step;
      return;
    case 'VisitCountsUpdated': {
      const tree = need(s, event.type);
      const nodes = event.data.nodes;
      const g = event.data.g;
      // Validate everything first so a bad event leaves an owned state untouched.
      for (let i = 0; i < nodes.length; i++) checkPath(tree, event.type, nodes[i]!.path);
      for (let i = 0; i < g.length; i++) {
        const { layer, op } = g[i]!;
        if (!(Number.isInteger(layer) && layer >= 0 && layer < tree.numLayers && Number.isInteger(op) && op >= 0 && op < tree.opCounts[layer]!)) {
          throw projectionError(event.type, `G entry (${layer}, ${op}) is outside the space`);
        }
      }
      // Updates usually list root..leaf in order: extend the previous node instead of walking
      // from the root again when a path is the previous path plus one op.
      let prevPath: readonly number[] | null = null;
      let prevId = -1;
      for (let i = 0; i < nodes.length; i++) {
        const u = nodes[i]!;
        const path = u.path;
        let id: number;
        if (prevPath !== null && path.length === prevPath.length + 1 && extendsPath(path, prevPath)) {
          const op = path[path.length - 1]!;
          const c = tree.child(prevId, op);
          id = c >= 0 ? c : tree.addChild(prevId, op);
        } else {
          id = tree.getOrCreate(path);
        }
        tree.n[id] = u.n;
        tree.s[id] = u.s;
        prevPath = path;
        prevId = id;
      }
      for (let i = 0; i < g.length; i++) tree.g[tree.gOffsets[g[i]!.layer]! + g[i]!.op] = g[i]!.value;
      if (event.data.source === 'training' && event.data.step > s.step) s.step = event.data.step;
      return;
    }
    case 'SearchStarted': {
      const tree = need(s, event.type);
      // The first search keeps the tree as training left it (no search has touched it yet).
      if (!s.trainedTree) {
        const trained = tree.clone();
        trained.clearRemoved();
        s.trainedTree = trained;
      }
      if (event.data.tree === 'as-trained') s.tree = s.trainedTree.clone();
      else tree.clearRemoved(); // v1 ('continued'): earlier searches' backups stay
      s.search = {
        searchId: event.data.searchId,
        strategy: event.data.strategy,
        candidates: event.data.candidates,
        topK: event.data.topK,
        referenceLoss: event.data.referenceLoss,
        flopsWindow: event.data.flopsWindow,
        scope: event.data.scope,
        updateDataFreq: event.data.updateDataFreq,
        shortlist: event.data.shortlist,
        validationBatchEvaluations: 0,
        evaluated: 0,
        removals: 0,
        completed: false,
        best: null,
      };
      return;
    }
    case 'ValidationBatchEvaluated': {
      const search = needSearch(s, event.type, event.data.searchId);
      s.search = { ...search, validationBatchEvaluations: search.validationBatchEvaluations + 1 };
      return;
    }
    case 'CandidateRemoved': {
      const tree = need(s, event.type);
      const search = needSearch(s, event.type, event.data.searchId);
      checkPath(tree, event.type, event.data.architecture);
      tree.remove(tree.getOrCreate(event.data.architecture), search.scope);
      s.search = { ...search, removals: search.removals + 1 };
      return;
    }
    case 'CandidateEvaluated': {
      const search = needSearch(s, event.type, event.data.searchId);
      const better = !search.best || event.data.top1 > search.best.top1;
      s.search = {
        ...search,
        evaluated: search.evaluated + 1,
        best: better ? { architecture: event.data.architecture, top1: event.data.top1 } : search.best,
      };
      return;
    }
    case 'SearchCompleted': {
      const search = needSearch(s, event.type, event.data.searchId);
      s.search = { ...search, completed: true, best: event.data.best };
      return;
    }
  }
}

function need(s: MutableState, type: string): TreeStore {
  if (!s.tree) throw projectionError(type, 'no ExperimentCreated before it');
  return s.tree;
}

function checkPath(tree: TreeStore, type: string, path: readonly number[]): void {
  if (path.length > tree.numLayers) throw projectionError(type, `path of length ${path.length} is deeper than ${tree.numLayers} layers`);
  for (let d = 0; d < path.length; d++) {
    const op = path[d]!;
    if (!Number.isInteger(op) || op < 0 || op >= tree.opCounts[d]!) throw projectionError(type, `op ${op} at layer ${d} is out of range (0..${tree.opCounts[d]! - 1})`);
  }
}

function extendsPath(path: readonly number[], prefix: readonly number[]): boolean {
  for (let d = 0; d < prefix.length; d++) if (path[d] !== prefix[d]) return false;
  return true;
}

function needSearch(s: MutableState, type: string, searchId: string): SearchProgress {
  if (!s.search) throw projectionError(type, 'no SearchStarted before it');
  if (s.search.searchId !== searchId) {
    throw projectionError(type, `search '${searchId}' is not the current search '${s.search.searchId}'`);
  }
  return s.search;
}
