/** Node-by-node differences between two trees of the same space (recorded vs alternative). */
import { topLeafIds } from '../tree/queries.js';
import { meanReward, requireTree, type TreeState } from '../tree/state.js';
import { pathKey, type TreeStore } from '../tree/store.js';
import type { NodeDiff, TreeDiff, TreeDiffOptions } from './report.js';

/** Differences between two trees of the same space (walks both tries together). */
export function diffTrees(a: TreeState, b: TreeState, options: TreeDiffOptions = {}): TreeDiff {
  const ta = requireTree(a).tree;
  const tb = requireTree(b).tree;
  if (ta.numLayers !== tb.numLayers || ta.opCounts.some((c, l) => c !== tb.opCounts[l])) throw new RangeError('the trees are over different spaces');
  const limit = options.nodeDiffLimit ?? 20;
  const largest: NodeDiff[] = [];
  let onlyA = 0;
  let onlyB = 0;
  let changed = 0;
  let maxDn = 0;
  let maxDq = 0;
  const view = (t: TreeStore, id: number) =>
    id < 0 ? null : { n: t.n[id]!, s: t.s[id]!, qbar: meanReward(t.n[id]!, t.s[id]!), removed: t.removed[id] === 1 };
  const consider = (path: number[], ia: number, ib: number) => {
    const va = view(ta, ia);
    const vb = view(tb, ib);
    if (!va) onlyB++;
    if (!vb) onlyA++;
    const same = va && vb && va.n === vb.n && va.s === vb.s && va.removed === vb.removed;
    if (same) return;
    if (va && vb) changed++;
    const dn = (vb?.n ?? 0) - (va?.n ?? 0);
    const dq = (vb?.qbar ?? 0) - (va?.qbar ?? 0);
    maxDn = Math.max(maxDn, Math.abs(dn));
    maxDq = Math.max(maxDq, Math.abs(dq));
    if (limit > 0) {
      const d: NodeDiff = { path: pathKey(path), recorded: va, alternative: vb, dn, dqbar: dq };
      const worse = (x: NodeDiff, y: NodeDiff) => Math.abs(x.dqbar) > Math.abs(y.dqbar) || (Math.abs(x.dqbar) === Math.abs(y.dqbar) && Math.abs(x.dn) > Math.abs(y.dn));
      if (largest.length < limit || worse(d, largest[largest.length - 1]!)) {
        largest.push(d);
        largest.sort((x, y) => (worse(x, y) ? -1 : worse(y, x) ? 1 : 0));
        if (largest.length > limit) largest.pop();
      }
    }
  };
  const stack: { ia: number; ib: number; path: number[] }[] = [{ ia: 0, ib: 0, path: [] }];
  while (stack.length > 0) {
    const { ia, ib, path } = stack.pop()!;
    consider(path, ia, ib);
    const depth = path.length;
    if (depth === ta.numLayers) continue;
    for (let op = ta.opCounts[depth]! - 1; op >= 0; op--) {
      const ca = ta.child(ia, op);
      const cb = tb.child(ib, op);
      if (ca >= 0 || cb >= 0) stack.push({ ia: ca, ib: cb, path: [...path, op] });
    }
  }
  let maxG = 0;
  const ga: number[][] = [];
  const gb: number[][] = [];
  for (let l = 0; l < ta.numLayers; l++) {
    ga.push(Array.from(ta.g.subarray(ta.gOffsets[l]!, ta.gOffsets[l + 1]!)));
    gb.push(Array.from(tb.g.subarray(tb.gOffsets[l]!, tb.gOffsets[l + 1]!)));
  }
  for (let i = 0; i < ta.g.length; i++) maxG = Math.max(maxG, Math.abs(ta.g[i]! - tb.g[i]!));
  const k = options.topLeaves ?? 10;
  const leaves = (t: TreeStore) =>
    topLeafIds(t, k, { includeRemoved: true }).map((id) => ({ architecture: t.pathOf(id), n: t.n[id]!, qbar: meanReward(t.n[id]!, t.s[id]!) }));
  const la = leaves(ta);
  const lb = leaves(tb);
  const keysA = new Set(la.map((x) => pathKey(x.architecture)));
  const common = lb.filter((x) => keysA.has(pathKey(x.architecture))).length;
  const identical = onlyA === 0 && onlyB === 0 && changed === 0 && maxG === 0 && a.movingAverageLoss === b.movingAverageLoss;
  return {
    identical,
    nodes: { recorded: ta.size, alternative: tb.size, onlyRecorded: onlyA, onlyAlternative: onlyB, changed },
    maxAbsVisitDiff: maxDn,
    maxAbsQbarDiff: maxDq,
    largest,
    movingAverageLoss: { recorded: a.movingAverageLoss, alternative: b.movingAverageLoss },
    g: { recorded: ga, alternative: gb, maxAbsDiff: maxG },
    topLeaves: { recorded: la, alternative: lb, common },
  };
}
