/**
 * Binary snapshot of a whole `TreeState` (a cache: deleting every snapshot must give the same
 * tree, since replaying the events from the snapshot's position on reproduces it exactly).
 *
 * Layout (little-endian):
 *   "MCTS" | u32 format version | u32 header length | header JSON (utf-8) | zero padding to 8
 *   Float64 columns: S[size], n[size] (only when some n is not a u32), G[pairs]
 *   Int32 columns:   parent[size], removed ids[removedCount], n[size] (when every n is a u32)
 *   op column:       u8[size] (u16 when a layer has more than 256 ops)
 *   (from the first search on) zero padding to 8 | the trained tree's own snapshot (the tree
 *   every search starts from; `trainedBytes` in the header)
 * The header holds the scalars (position, stream version, step, Ltilde, phase, search progress)
 * and the ExperimentCreated payload. Nodes keep their creation order, so a restored store is
 * identical to the original, not merely equivalent. About 18 bytes per node.
 */
import { endianness } from 'node:os';
import { DomainError } from '../kernel/domain-error.js';
import { configFromExperiment, type TreeState } from './state.js';
import { TreeStore } from './store.js';

const MAGIC = 0x5354434d; // "MCTS" read as little-endian u32
/** 2: ExperimentCreated v2 in the header (flopsWindowPhases, search scope); version-1 snapshots are rebuilt from events */
const FORMAT_VERSION = 2;

interface Header {
  readonly position: number;
  readonly streamVersion: number;
  readonly eventCount: number;
  readonly phase: TreeState['phase'];
  readonly step: number;
  readonly lastSampled: TreeState['lastSampled'];
  readonly lastRewardedStep: number;
  readonly movingAverageLoss: number;
  readonly search: TreeState['search'];
  readonly experiment: NonNullable<TreeState['config']>['experiment'] | null;
  readonly size: number;
  readonly gLength: number;
  readonly removedCount: number;
  readonly nAsU32: boolean;
  readonly opBytes: 1 | 2;
  /** bytes of the trained tree's own snapshot appended after the columns (0: none) */
  readonly trainedBytes: number;
}

/** A snapshot that cannot be read (truncated, corrupt, another format or byte order). */
function snapshotError(message: string): DomainError {
  return new DomainError('internal', 'SnapshotError', message);
}

/** The stream position a snapshot reflects, read from its header only. */
export function snapshotPosition(buf: Uint8Array): { position: number; streamVersion: number; eventCount: number } {
  const h = readHeader(buf).header;
  return { position: h.position, streamVersion: h.streamVersion, eventCount: h.eventCount };
}

export function serialize(state: TreeState): Buffer {
  if (endianness() !== 'LE') throw snapshotError('snapshots are written on little-endian hosts only');
  // The trained tree (kept from the first search on) as a nested snapshot of its own.
  const trained = state.trainedTree ? serialize({ ...state, tree: state.trainedTree, search: null, trainedTree: null }) : null;
  const tree = state.tree;
  const size = tree ? tree.size : 0;
  let nAsU32 = true;
  let maxOps = 0;
  const removedIds: number[] = [];
  if (tree) {
    for (let id = 0; id < size; id++) {
      const n = tree.n[id]!;
      if (nAsU32 && !(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) nAsU32 = false;
      if (tree.removed[id]) removedIds.push(id);
    }
    maxOps = Math.max(...tree.opCounts);
  }
  const opBytes: 1 | 2 = maxOps > 256 ? 2 : 1;
  const header: Header = {
    position: state.position,
    streamVersion: state.streamVersion,
    eventCount: state.eventCount,
    phase: state.phase,
    step: state.step,
    lastSampled: state.lastSampled,
    lastRewardedStep: state.lastRewardedStep,
    movingAverageLoss: state.movingAverageLoss,
    search: state.search,
    experiment: state.config ? state.config.experiment : null,
    size,
    gLength: tree ? tree.g.length : 0,
    removedCount: removedIds.length,
    nAsU32,
    opBytes,
    trainedBytes: trained ? trained.length : 0,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = align8(12 + json.length);
  const f64Count = size + (nAsU32 ? 0 : size) + header.gLength;
  const i32Count = size + removedIds.length + (nAsU32 ? size : 0);
  const columnsEnd = headerEnd + f64Count * 8 + i32Count * 4 + size * opBytes;
  const total = trained ? align8(columnsEnd) + trained.length : columnsEnd;
  const ab = new ArrayBuffer(total);
  const bytes = new Uint8Array(ab);
  const dv = new DataView(ab);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, FORMAT_VERSION, true);
  dv.setUint32(8, json.length, true);
  bytes.set(json, 12);
  if (tree) {
    let off = headerEnd;
    const f64 = (src: Float64Array, count: number) => {
      new Float64Array(ab, off, count).set(src.subarray(0, count));
      off += count * 8;
    };
    const i32 = (src: ArrayLike<number>, count: number) => {
      const view = new Uint32Array(ab, off, count);
      if (src instanceof Int32Array) new Int32Array(ab, off, count).set(src.subarray(0, count));
      else for (let i = 0; i < count; i++) view[i] = src[i]!;
      off += count * 4;
    };
    f64(tree.s, size);
    if (!nAsU32) f64(tree.n, size);
    f64(tree.g, header.gLength);
    i32(tree.parent, size);
    i32(removedIds, removedIds.length);
    if (nAsU32) i32(tree.n, size);
    const ops = opBytes === 1 ? new Uint8Array(ab, off, size) : new Uint16Array(ab, off, size);
    ops.set(tree.op.subarray(0, size));
    ops[0] = 0;
  }
  if (trained) bytes.set(trained, align8(columnsEnd));
  return Buffer.from(ab);
}

export function deserialize(buf: Uint8Array): TreeState {
  if (endianness() !== 'LE') throw snapshotError('snapshots are read on little-endian hosts only');
  const { header: h, headerEnd } = readHeader(buf);
  // Copy into an 8-byte aligned buffer so typed-array views are legal.
  const ab = new ArrayBuffer(buf.byteLength);
  new Uint8Array(ab).set(buf);
  const size = h.size;
  const columnsEnd = headerEnd + (size + (h.nAsU32 ? 0 : size) + h.gLength) * 8 + (size + h.removedCount + (h.nAsU32 ? size : 0)) * 4 + size * h.opBytes;
  const trainedBytes = h.trainedBytes ?? 0;
  const expected = trainedBytes > 0 ? align8(columnsEnd) + trainedBytes : columnsEnd;
  if (buf.byteLength !== expected) throw snapshotError(`snapshot is ${buf.byteLength} bytes, its header describes ${expected}`);
  let tree: TreeStore | null = null;
  let config = null;
  if (h.experiment) {
    config = configFromExperiment(h.experiment);
    let off = headerEnd;
    const f64 = (count: number) => {
      const a = new Float64Array(ab, off, count);
      off += count * 8;
      return a;
    };
    const i32 = (count: number) => {
      const a = new Int32Array(ab, off, count);
      off += count * 4;
      return a;
    };
    const s = f64(size);
    const nF64 = h.nAsU32 ? null : f64(size);
    const g = f64(h.gLength);
    const parent = i32(size);
    const removedIds = i32(h.removedCount);
    const nU32 = h.nAsU32 ? new Uint32Array(ab, off, size) : null;
    if (h.nAsU32) off += size * 4;
    const op = new Int32Array(size);
    op.set(h.opBytes === 1 ? new Uint8Array(ab, off, size) : new Uint16Array(ab, off, size));
    op[0] = -1;
    const n = nF64 ?? new Float64Array(size);
    if (nU32) n.set(nU32);
    const removed = new Uint8Array(size);
    for (const id of removedIds) removed[id] = 1;
    try {
      tree = TreeStore.fromColumns(config.opCounts, { parent, op, n, s, removed, g });
    } catch (err) {
      throw snapshotError(`corrupt snapshot: ${(err as Error).message}`);
    }
  } else if (size !== 0) {
    throw snapshotError('a snapshot without an experiment cannot hold nodes');
  }
  return Object.freeze({
    config,
    tree,
    position: h.position,
    streamVersion: h.streamVersion,
    eventCount: h.eventCount,
    phase: h.phase,
    step: h.step,
    lastSampled: h.lastSampled,
    lastRewardedStep: h.lastRewardedStep,
    movingAverageLoss: h.movingAverageLoss,
    search: h.search,
    trainedTree: trainedBytes > 0 ? deserialize(buf.subarray(align8(columnsEnd), expected)).tree : null,
  });
}

function readHeader(buf: Uint8Array): { header: Header; headerEnd: number } {
  if (buf.byteLength < 12) throw snapshotError('snapshot is truncated');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw snapshotError('not a tree snapshot (bad magic)');
  const version = dv.getUint32(4, true);
  if (version !== FORMAT_VERSION) throw snapshotError(`unsupported snapshot format version ${version}`);
  const len = dv.getUint32(8, true);
  if (12 + len > buf.byteLength) throw snapshotError('snapshot header is truncated');
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 12, len).toString('utf8')) as Header;
  } catch {
    throw snapshotError('snapshot header is not valid JSON');
  }
  return { header, headerEnd: align8(12 + len) };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
