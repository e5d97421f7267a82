import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent } from '../../src/events/catalog.js';
import { evolve, fold, TreeProjector } from '../../src/tree/evolve.js';
import type { ProjectableEvent } from '../../src/tree/events.js';
import { nodeAt } from '../../src/tree/queries.js';
import { initialTreeState, toPlain } from '../../src/tree/state.js';
import { withCode } from '../support/errors.js';
import { experiment, simulateTraining, syntheticLoss, tinySpace } from './helpers.js';

const created = (opCounts: number[]): DomainEvent => ({ type: 'ExperimentCreated', data: experiment(opCounts) });
const started = (searchId = 's1'): DomainEvent => ({
  type: 'SearchStarted',
  data: { searchId, strategy: 'hierarchical', candidates: 3, topK: 2, referenceLoss: 1, flopsWindow: null, scope: 'any', tree: 'continued', updateDataFreq: 1, shortlist: null },
});
const removed = (architecture: number[], searchId = 's1'): DomainEvent => ({
  type: 'CandidateRemoved',
  data: { searchId, architecture, reason: 'evaluated' },
});

describe('evolve', () => {
  it('is pure: the input state is never mutated and the output is frozen', () => {
    const s0 = fold([created([2, 2])]);
    const before = toPlain(s0);
    const e: DomainEvent = {
      type: 'VisitCountsUpdated',
      data: { step: 0, source: 'training', nodes: [{ path: [], n: 1, s: 0.5 }, { path: [1], n: 1, s: 0.5 }], g: [{ layer: 0, op: 1, value: 0.25 }] },
    };
    const s1 = evolve(s0, e);
    assert.deepEqual(toPlain(s0), before);
    assert.ok(Object.isFrozen(s1));
    assert.notEqual(s1.tree, s0.tree);
    assert.equal(nodeAt(s1, [1]).n, 1);
    assert.equal(nodeAt(s0, [1]).exists, false);
    // Events that do not touch the nodes share the store.
    const s2 = evolve(s1, { type: 'PhaseChanged', data: { step: 0, from: null, to: 'warmup' } });
    assert.equal(s2.tree, s1.tree);
    assert.equal(s2.phase, 'warmup');
  });

  it('applies VisitCountsUpdated and RewardRecorded from the stored values, never recomputing', () => {
    let s = fold([created([2, 2])]);
    // Values that no backup rule would produce: they must land verbatim.
    s = evolve(s, {
      type: 'VisitCountsUpdated',
      data: { step: 4, source: 'training', nodes: [{ path: [0, 1], n: 17, s: 3.25 }, { path: [], n: 2, s: -1 }], g: [{ layer: 1, op: 1, value: 42 }] },
    });
    assert.equal(nodeAt(s, [0, 1]).n, 17);
    assert.equal(nodeAt(s, [0, 1]).s, 3.25);
    assert.equal(nodeAt(s, [0]).n, 0); // created on the way, untouched
    assert.equal(nodeAt(s, []).s, -1);
    assert.equal(s.tree!.gAt(1, 1), 42);
    assert.equal(s.step, 4);
    s = evolve(s, { type: 'RewardRecorded', data: { step: 5, architecture: [0, 0], loss: 2, movingAverageLoss: 123.5, reward: 9 } });
    assert.equal(s.movingAverageLoss, 123.5);
    assert.equal(s.lastRewardedStep, 5);
  });

  it('fold equals a chain of evolve, and tracks position, version and step', () => {
    const { events } = simulateTraining(tinySpace([3, 3]), experiment([3, 3], { schedule: { stepsPerEpoch: 1, warmupSteps: 3, treeBuildingSteps: 5, mctSteps: 5 } }), syntheticLoss(2));
    const folded = fold(events);
    const chained = events.reduce((s, e) => evolve(s, e), initialTreeState());
    assert.deepEqual(toPlain(folded), toPlain(chained));
    assert.equal(folded.position, events.length);
    assert.equal(folded.streamVersion, events.length);
    assert.equal(folded.eventCount, events.length);
    assert.equal(folded.step, 12);
    assert.equal(folded.lastSampled!.step, 12);
    assert.equal(folded.phase, 'mct-sampling');
  });

  it('rejects events it cannot apply, leaving an owned state untouched', () => {
    assert.throws(() => evolve(initialTreeState(), { type: 'VisitCountsUpdated', data: { step: 0, source: 'training', nodes: [], g: [] } }), withCode('ProjectionError'));
    const s = fold([created([2, 2])]);
    assert.throws(() => evolve(s, created([2, 2])), /already created/);
    const p = new TreeProjector(s);
    const before = toPlain(p.state);
    const bad: DomainEvent = {
      type: 'VisitCountsUpdated',
      data: { step: 0, source: 'training', nodes: [{ path: [1], n: 5, s: 1 }, { path: [1, 2], n: 1, s: 1 }], g: [] },
    };
    assert.throws(() => p.apply(bad), withCode('ProjectionError'));
    const after = toPlain(p.state);
    assert.deepEqual({ ...after, eventCount: 0 }, { ...before, eventCount: 0 });
    assert.throws(() => p.apply({ type: 'VisitCountsUpdated', data: { step: 0, source: 'training', nodes: [], g: [{ layer: 2, op: 0, value: 1 }] } }), withCode('ProjectionError'));
    assert.throws(() => evolve(s, removed([0, 0])), /no SearchStarted/);
    // duplicated / reordered stream versions
    const v = evolve(s, { type: 'PhaseChanged', data: { step: 0, from: null, to: 'warmup' }, streamVersion: 5 } as ProjectableEvent);
    assert.throws(() => evolve(v, { type: 'PhaseChanged', data: { step: 0, from: null, to: 'warmup' }, streamVersion: 5 } as ProjectableEvent), /stream version/);
  });

  it('the projector hands out immutable copies', () => {
    const p = new TreeProjector();
    p.apply(created([2, 2]));
    const early = p.state;
    p.apply({ type: 'VisitCountsUpdated', data: { step: 0, source: 'training', nodes: [{ path: [], n: 1, s: 1 }], g: [] } });
    assert.equal(early.tree!.n[0], 0);
    assert.equal(p.state.tree!.n[0], 1);
    assert.equal(p.state, p.state); // cached until the next change
  });
});

describe('removal', () => {
  it('prunes empty parents upward (2 layers x 2 ops)', () => {
    let s = fold([created([2, 2]), started()]);
    s = evolve(s, removed([0, 0]));
    assert.equal(nodeAt(s, [0, 0]).removed, true);
    assert.equal(nodeAt(s, [0]).removed, false);
    s = evolve(s, removed([0, 1]));
    assert.equal(nodeAt(s, [0]).removed, true);
    assert.equal(nodeAt(s, []).removed, false);
    s = evolve(s, removed([1, 1]));
    assert.equal(nodeAt(s, [1]).removed, false);
    s = evolve(s, removed([1, 0]));
    assert.equal(nodeAt(s, [1]).removed, true);
    assert.equal(nodeAt(s, []).removed, true);
    assert.equal(s.tree!.removedCount, 7);
    assert.equal(s.search!.removals, 4);
  });

  it('children never created are still in the tree', () => {
    let s = fold([created([2, 3]), started()]);
    s = evolve(s, removed([0, 0]));
    s = evolve(s, removed([0, 1]));
    assert.equal(nodeAt(s, [0]).removed, false, '[0, 2] was never created but is still a candidate');
    assert.equal(nodeAt(s, [0, 2]).exists, false);
    s = evolve(s, removed([0, 2]));
    assert.equal(nodeAt(s, [0]).removed, true);
    // idempotent
    const again = evolve(s, removed([0, 2]));
    assert.equal(again.tree!.removedCount, s.tree!.removedCount);
  });

  it('a new search starts from the whole tree; events of another search are rejected', () => {
    let s = fold([created([2, 2]), started(), removed([0, 0]), removed([0, 1])]);
    assert.equal(nodeAt(s, [0]).removed, true);
    s = evolve(s, started('s2'));
    assert.equal(s.tree!.removedCount, 0);
    assert.equal(nodeAt(s, [0, 0]).removed, false);
    assert.throws(() => evolve(s, removed([1, 1], 's1')), /not the current search/);
  });
});
