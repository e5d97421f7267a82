/**
 * The Monte-Carlo tree's storage: a trie over op indices kept in growable typed arrays.
 *
 * Node 0 is the root (path []). A node at depth `d` is "op `op` at layer `d - 1` given the ops
 * above it"; its children (one slot per op of layer `d`) live in a block of `children`
 * allocated the first time one of them is created. Nodes are created lazily: a child that was
 * never created has n = 0, S = 0 and is *not* removed.
 *
 * Removal (search): a node is removed explicitly (a removed leaf) or because its children are
 * (upward pruning). Which children a parent has depends on the search's scope:
 *  - 'trained' (the authors' `remove_leaf_node`): only children with training visits (n > 0)
 *    exist; a parent is pruned once every existing child is removed. O(depth x N_l).
 *  - 'any': every one of the `N_l` children counts, created or not; a parent is pruned once all
 *    `N_l` are removed. `removedChildren[id]` counts removed children so this is O(depth).
 * Removing a leaf whose parent was never created first creates the path (n = 0, S = 0).
 *
 * Ownership: a `TreeStore` is mutable. The projection (evolve.ts) only mutates a store it owns
 * (a fresh clone, or the private store of a `TreeProjector`); everything handed out as a
 * `TreeState` must be treated as read-only.
 */

export class TreeStore {
  readonly numLayers: number;
  readonly opCounts: Int32Array;
  /** offset of layer l in the flat G table; gOffsets[numLayers] = total (layer, op) pairs */
  readonly gOffsets: Int32Array;
  /** node communication table G[l][op], flat */
  g: Float64Array;

  /** number of nodes (ids 0 .. size-1) */
  size = 0;
  parent: Int32Array;
  op: Int32Array;
  depth: Int32Array;
  n: Float64Array;
  s: Float64Array;
  removed: Uint8Array;
  removedChildren: Int32Array;
  /** start of the node's children block in `children`, -1 until a child is created */
  childStart: Int32Array;
  children: Int32Array;
  childrenUsed = 0;
  /** number of nodes currently flagged removed */
  removedCount = 0;

  private constructor(opCounts: Int32Array, capacity: number, childCapacity: number) {
    this.numLayers = opCounts.length;
    this.opCounts = opCounts;
    const offsets = new Int32Array(opCounts.length + 1);
    for (let l = 0; l < opCounts.length; l++) offsets[l + 1] = offsets[l]! + opCounts[l]!;
    this.gOffsets = offsets;
    this.g = new Float64Array(offsets[opCounts.length]!);
    this.parent = this.op = this.depth = this.removedChildren = this.childStart = EMPTY_I32;
    this.n = this.s = EMPTY_F64;
    this.removed = EMPTY_U8;
    this.setCapacity(capacity);
    this.children = new Int32Array(childCapacity);
  }

  /**
   * (Re)allocates the node columns in one ArrayBuffer (one allocation per growth: fewer
   * full GCs triggered by external memory on big rebuilds) and copies the used part.
   */
  private setCapacity(cap: number): void {
    const buffer = new ArrayBuffer(cap * NODE_BYTES);
    let off = 0;
    const f64 = (old: Float64Array) => {
      const a = new Float64Array(buffer, off, cap);
      a.set(old.subarray(0, this.size));
      off += cap * 8;
      return a;
    };
    const i32 = (old: Int32Array) => {
      const a = new Int32Array(buffer, off, cap);
      a.set(old.subarray(0, this.size));
      off += cap * 4;
      return a;
    };
    this.n = f64(this.n);
    this.s = f64(this.s);
    this.parent = i32(this.parent);
    this.op = i32(this.op);
    this.depth = i32(this.depth);
    this.removedChildren = i32(this.removedChildren);
    this.childStart = i32(this.childStart);
    const removed = new Uint8Array(buffer, off, cap);
    removed.set(this.removed.subarray(0, this.size));
    this.removed = removed;
  }

  /** Node capacity before the next reallocation. */
  get capacity(): number {
    return this.parent.length;
  }

  /** An empty tree (root only) for a space with these op counts per layer. */
  static create(opCounts: readonly number[]): TreeStore {
    if (opCounts.length === 0) throw new RangeError('a tree needs at least one layer');
    for (const [l, c] of opCounts.entries()) {
      if (!Number.isInteger(c) || c < 1) throw new RangeError(`layer ${l} must have at least one op, got ${c}`);
    }
    const store = new TreeStore(Int32Array.from(opCounts), 1024, 1024 * Math.max(...opCounts));
    store.parent[0] = -1;
    store.op[0] = -1;
    store.depth[0] = 0;
    store.childStart[0] = -1;
    store.size = 1;
    return store;
  }

  /** Rebuilds a store from its serialized columns (snapshot.ts). Creation order is preserved. */
  static fromColumns(
    opCounts: readonly number[],
    columns: { parent: Int32Array; op: Int32Array; n: Float64Array; s: Float64Array; removed: Uint8Array; g: Float64Array },
  ): TreeStore {
    const size = columns.parent.length;
    // Exact children pool: one block per node that has a child.
    const depth = new Int32Array(size);
    const hasBlock = new Uint8Array(size);
    let childSlots = 0;
    for (let id = 1; id < size; id++) {
      const p = columns.parent[id]!;
      if (p < 0 || p >= id) throw new RangeError(`node ${id} has an invalid parent ${p}`);
      depth[id] = depth[p]! + 1;
      if (!hasBlock[p]) {
        hasBlock[p] = 1;
        if (depth[p]! >= opCounts.length) throw new RangeError(`node ${p} is a leaf but has children`);
        childSlots += opCounts[depth[p]!]!;
      }
    }
    const store = new TreeStore(Int32Array.from(opCounts), Math.max(size, 16), Math.max(childSlots, 16));
    if (columns.g.length !== store.g.length) throw new RangeError('G table size does not match the space');
    if (size < 1 || columns.parent[0] !== -1) throw new RangeError('node 0 must be the root');
    store.g.set(columns.g);
    store.parent.set(columns.parent.subarray(0, size));
    store.op.set(columns.op.subarray(0, size));
    store.op[0] = -1;
    store.depth.set(depth);
    store.childStart.fill(-1, 0, size);
    const children = store.children;
    children.fill(-1, 0, childSlots);
    let used = 0;
    // Blocks are allocated in order of each parent's first child, as `addChild` did.
    for (let id = 1; id < size; id++) {
      const p = columns.parent[id]!;
      const op = columns.op[id]!;
      const count = opCounts[depth[p]!]!;
      if (!Number.isInteger(op) || op < 0 || op >= count) throw new RangeError(`node ${id} has op ${op} out of range`);
      let start = store.childStart[p]!;
      if (start < 0) {
        start = used;
        used += count;
        store.childStart[p] = start;
      }
      if (children[start + op]! >= 0) throw new RangeError(`node ${id} duplicates another node`);
      children[start + op] = id;
    }
    store.childrenUsed = used;
    store.size = size;
    store.n.set(columns.n.subarray(0, size));
    store.s.set(columns.s.subarray(0, size));
    for (let id = 0; id < size; id++) {
      if (columns.removed[id]) {
        store.removed[id] = 1;
        store.removedCount++;
        const p = store.parent[id]!;
        if (p >= 0) store.removedChildren[p]!++;
      }
    }
    return store;
  }

  /** A deep copy (trimmed to the used size plus a little room; grows again on demand). */
  clone(): TreeStore {
    const copy = new TreeStore(this.opCounts, 0, 0);
    copy.g = this.g.slice();
    copy.size = this.size;
    copy.setCapacityFrom(this, this.size + 64);
    copy.children = this.children.slice(0, this.childrenUsed + 1024);
    copy.childrenUsed = this.childrenUsed;
    copy.removedCount = this.removedCount;
    return copy;
  }

  private setCapacityFrom(source: TreeStore, cap: number): void {
    this.n = source.n;
    this.s = source.s;
    this.parent = source.parent;
    this.op = source.op;
    this.depth = source.depth;
    this.removedChildren = source.removedChildren;
    this.childStart = source.childStart;
    this.removed = source.removed;
    this.setCapacity(cap); // copies [0, size) out of the source's columns
  }

  /** Child id of `id` for `op`, or -1 when it was never created (or `id` is -1). */
  child(id: number, op: number): number {
    if (id < 0) return -1;
    const start = this.childStart[id]!;
    return start < 0 ? -1 : this.children[start + op]!;
  }

  /** Node id at `path` (first `length` entries), or -1 when not created. */
  find(path: readonly number[], length: number = path.length): number {
    let id = 0;
    for (let d = 0; d < length; d++) {
      const start = this.childStart[id]!;
      if (start < 0) return -1;
      id = this.children[start + path[d]!]!;
      if (id < 0) return -1;
    }
    return id;
  }

  /** Node id at `path`, creating missing nodes (n = 0, S = 0). Validates op ranges. */
  getOrCreate(path: readonly number[], length: number = path.length): number {
    if (length > this.numLayers) throw new RangeError(`path of length ${length} is deeper than ${this.numLayers} layers`);
    let id = 0;
    for (let d = 0; d < length; d++) {
      const op = path[d]!;
      if (!Number.isInteger(op) || op < 0 || op >= this.opCounts[d]!) {
        throw new RangeError(`op ${op} at layer ${d} is out of range (0..${this.opCounts[d]! - 1})`);
      }
      const start = this.childStart[id]!;
      const next = start < 0 ? -1 : this.children[start + op]!;
      id = next < 0 ? this.addChild(id, op) : next;
    }
    return id;
  }

  /** Creates child `op` of `id` (which must not exist yet) and returns its id. */
  addChild(id: number, op: number): number {
    const d = this.depth[id]!;
    if (d >= this.numLayers) throw new RangeError('leaves have no children');
    const count = this.opCounts[d]!;
    if (op < 0 || op >= count || !Number.isInteger(op)) {
      throw new RangeError(`op ${op} at layer ${d} is out of range (0..${count - 1})`);
    }
    let start = this.childStart[id]!;
    if (start < 0) {
      start = this.childrenUsed;
      this.ensureChildCapacity(start + count);
      const children = this.children;
      for (let i = start; i < start + count; i++) children[i] = -1;
      this.childrenUsed = start + count;
      this.childStart[id] = start;
    } else if (this.children[start + op]! >= 0) {
      throw new RangeError(`node already exists`);
    }
    const child = this.size;
    this.ensureCapacity(child + 1);
    this.parent[child] = id;
    this.op[child] = op;
    this.depth[child] = d + 1;
    this.n[child] = 0;
    this.s[child] = 0;
    this.removed[child] = 0;
    this.removedChildren[child] = 0;
    this.childStart[child] = -1;
    this.children[start + op] = child;
    this.size = child + 1;
    return child;
  }

  /** Op path from the root to node `id`. */
  pathOf(id: number): number[] {
    const path = new Array<number>(this.depth[id]!);
    for (let cur = id, d = path.length - 1; d >= 0; d--) {
      path[d] = this.op[cur]!;
      cur = this.parent[cur]!;
    }
    return path;
  }

  /** G[l][op]. */
  gAt(layer: number, op: number): number {
    return this.g[this.gOffsets[layer]! + op]!;
  }

  setG(layer: number, op: number, value: number): void {
    if (layer < 0 || layer >= this.numLayers || !Number.isInteger(layer)) throw new RangeError(`layer ${layer} is out of range`);
    if (op < 0 || op >= this.opCounts[layer]! || !Number.isInteger(op)) throw new RangeError(`op ${op} at layer ${layer} is out of range`);
    this.g[this.gOffsets[layer]! + op] = value;
  }

  /** True when node `id` or one of its ancestors is flagged removed. Node -1 (never created) is judged by its parent. */
  isRemoved(id: number): boolean {
    for (let cur = id; cur >= 0; cur = this.parent[cur]!) if (this.removed[cur]) return true;
    return false;
  }

  /** True when child `op` of node `id` (id may be -1) is removed. */
  childRemoved(id: number, op: number): boolean {
    const c = this.child(id, op);
    return c >= 0 && this.removed[c] === 1;
  }

  /** Number of children of `id` still in the tree (never-created children count as present). */
  remainingChildren(id: number, depth: number): number {
    return this.opCounts[depth]! - (id >= 0 ? this.removedChildren[id]! : 0);
  }

  /**
   * Whether child `op` of node `id` is available to a search of this scope: not removed, and
   * for 'trained' created by training (n > 0; `id` -1 has no such child).
   */
  childAvailable(id: number, op: number, scope: RemovalScope): boolean {
    const c = this.child(id, op);
    if (scope === 'trained') return c >= 0 && this.n[c]! > 0 && this.removed[c] === 0;
    return !(c >= 0 && this.removed[c] === 1);
  }

  /**
   * Flags node `id` removed and prunes upward: a parent whose children (of the scope, see the
   * file comment) are all removed is removed in turn. Idempotent. Returns the ids newly flagged
   * (the node first, then pruned ancestors).
   */
  remove(id: number, scope: RemovalScope = 'any'): number[] {
    const flagged: number[] = [];
    let cur = id;
    while (cur >= 0 && !this.removed[cur]) {
      this.removed[cur] = 1;
      this.removedCount++;
      flagged.push(cur);
      const p = this.parent[cur]!;
      if (p < 0) break;
      this.removedChildren[p]!++;
      if (scope === 'trained' ? this.hasAvailableChild(p, 'trained') : this.removedChildren[p]! < this.opCounts[this.depth[p]!]!) break;
      cur = p;
    }
    return flagged;
  }

  /** Whether node `id` has a child available to a search of this scope. */
  hasAvailableChild(id: number, scope: RemovalScope): boolean {
    const count = this.opCounts[this.depth[id]!]!;
    for (let op = 0; op < count; op++) if (this.childAvailable(id, op, scope)) return true;
    return false;
  }

  /** Clears every removal flag (a new search starts from the whole tree). */
  clearRemoved(): void {
    if (this.removedCount === 0) return;
    this.removed.fill(0, 0, this.size);
    this.removedChildren.fill(0, 0, this.size);
    this.removedCount = 0;
  }

  /** Approximate bytes held by the typed arrays. */
  byteSize(): number {
    return (
      this.parent.byteLength +
      this.op.byteLength +
      this.depth.byteLength +
      this.n.byteLength +
      this.s.byteLength +
      this.removed.byteLength +
      this.removedChildren.byteLength +
      this.childStart.byteLength +
      this.children.byteLength +
      this.g.byteLength
    );
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.parent.length) return;
    this.setCapacity(Math.max(needed, this.parent.length * 2, 64));
  }

  private ensureChildCapacity(needed: number): void {
    if (needed <= this.children.length) return;
    const cap = Math.max(needed, this.children.length * 2, 256);
    const children = new Int32Array(cap);
    children.set(this.children.subarray(0, this.childrenUsed));
    this.children = children;
  }
}

/** Which children exist for a search: see the file comment. */
export type RemovalScope = 'trained' | 'any';

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);
/** bytes per node: n, S (f64); parent, op, depth, removedChildren, childStart (i32); removed (u8) */
const NODE_BYTES = 8 * 2 + 4 * 5 + 1;

/** Compact, human-readable key of a path: op indices joined by '.', '' for the root. */
export function pathKey(path: readonly number[]): string {
  return path.join('.');
}

/** Inverse of `pathKey`. */
export function parsePathKey(key: string): number[] {
  if (key === '') return [];
  return key.split('.').map((part) => {
    if (!/^\d+$/.test(part)) throw new RangeError(`invalid path key '${key}'`);
    return Number(part);
  });
}
