import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent } from '../../src/events/catalog.js';
import { fold } from '../../src/tree/evolve.js';
import { trainingChildScores } from '../../src/tree/policy.js';
import { childrenOf, gTable, nodeAt, subtree, topLeaves, treeStats } from '../../src/tree/queries.js';
import { withCode } from '../support/errors.js';
import { experiment } from './helpers.js';

const visits = (nodes: [number[], number, number][], g: [number, number, number][] = []): DomainEvent => ({
  type: 'VisitCountsUpdated',
  data: { step: 0, source: 'training', nodes: nodes.map(([path, n, s]) => ({ path, n, s })), g: g.map(([layer, op, value]) => ({ layer, op, value })) },
});

function state() {
  return fold([
    { type: 'ExperimentCreated', data: experiment([2, 3], { hp: { tau: 0.1 } }) },
    visits(
      [
        [[], 7, 3.3],
        [[0], 3, 1.9],
        [[0, 0], 2, 1],
        [[0, 1], 1, 0.9],
        [[1], 4, 2],
        [[1, 0], 4, 2],
      ],
      [
        [0, 0, 0.3],
        [0, 1, 0.1],
        [1, 2, 0.05],
      ],
    ),
  ].map((e, i) => ({ ...e, position: 10 + i })) as never);
}

describe('read models', () => {
  it('looks up nodes by path, including never-created ones', () => {
    const s = state();
    const n = nodeAt(s, [0, 1]);
    assert.deepEqual(
      { ...n },
      { position: 11, path: [0, 1], key: '0.1', depth: 2, exists: true, n: 1, s: 0.9, qbar: 0.9, removed: false, g: 0, isLeaf: true },
    );
    assert.equal(nodeAt(s, [0]).g, 0.3);
    assert.equal(nodeAt(s, []).g, null);
    assert.equal(nodeAt(s, [1, 2]).exists, false);
    assert.equal(nodeAt(s, [1, 2]).g, 0.05);
    assert.throws(() => nodeAt(s, [2]), withCode('PathError'));
    assert.throws(() => nodeAt(s, [0, 0, 0]), withCode('PathError'));
  });

  it('lists children with scores and the current training sampling probabilities', () => {
    const s = state();
    const { children, parent, position } = childrenOf(s, []);
    assert.equal(position, 11);
    assert.equal(parent.n, 7);
    const expected = trainingChildScores(s.tree!, 0, 0, { c1: 0.1, c2: 0.2, tau: 0.1 });
    assert.deepEqual(
      children.map((c) => c.probability),
      expected.map((e) => e.probability),
    );
    const sum = children.reduce((a, c) => a + c.probability, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12);
    assert.equal(children[0]!.qbar, 1.9 / 3);
    assert.equal(children[0]!.u, 1.9 / 3 + 0.1 * Math.sqrt(Math.log(7) / 3.1) + 0.2 * 0.3);
    assert.equal(children[1]!.selectionScore, 0.5 + 0.2 * 0.1);
    const leafKids = childrenOf(s, [1]).children;
    assert.deepEqual(leafKids.map((c) => c.exists), [true, false, false]);
    assert.throws(() => childrenOf(s, [0, 0]), /leaf/);
  });

  it('returns depth-limited subtrees of created nodes', () => {
    const s = state();
    const top = subtree(s, [], { maxDepth: 1 });
    assert.equal(top.nodes, 3);
    assert.equal(top.root!.childCount, 2);
    assert.deepEqual(top.root!.children!.map((c) => [c.key, c.childCount, c.children]), [
      ['0', 2, undefined],
      ['1', 1, undefined],
    ]);
    const all = subtree(s, [], { maxDepth: 5 });
    assert.equal(all.nodes, s.tree!.size);
    assert.equal(subtree(s, [0], { maxDepth: 0 }).root!.children, undefined);
    assert.equal(subtree(s, [1, 1]).root, null);
    assert.equal(subtree(s, [], { maxDepth: 5, minVisits: 2 }).nodes, 5);
  });

  it('ranks leaves by mean reward (ties: more visits first)', () => {
    const s = state();
    assert.deepEqual(
      topLeaves(s, 5).leaves.map((l) => [l.key, l.qbar, l.n]),
      [
        ['0.1', 0.9, 1],
        ['1.0', 0.5, 4],
        ['0.0', 0.5, 2],
      ],
    );
    assert.deepEqual(topLeaves(s, 2).leaves.map((l) => l.key), ['0.1', '1.0']);
    assert.deepEqual(topLeaves(s, 0).leaves, []);
    const r = fold(
      [
        { type: 'SearchStarted', data: { searchId: 'x', strategy: 'hierarchical', candidates: 1, topK: 1, referenceLoss: 1, flopsWindow: null, scope: 'trained', tree: 'as-trained', updateDataFreq: 1000, shortlist: null } },
        { type: 'CandidateRemoved', data: { searchId: 'x', architecture: [0, 1], reason: 'evaluated' } },
      ] as DomainEvent[],
      s,
    );
    assert.deepEqual(topLeaves(r, 5).leaves.map((l) => l.key), ['1.0', '0.0']);
    assert.deepEqual(topLeaves(r, 1, { includeRemoved: true }).leaves.map((l) => [l.key, l.removed]), [['0.1', true]]);
  });

  it('returns the G table and size figures', () => {
    const s = state();
    assert.deepEqual(gTable(s).g, [
      [0.3, 0.1],
      [0, 0, 0.05],
    ]);
    const st = treeStats(s);
    assert.equal(st.nodes, 6);
    assert.equal(st.leaves, 3);
    assert.equal(st.rootVisits, 7);
  });
});
