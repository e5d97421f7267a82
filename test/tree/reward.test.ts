import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evolve, fold } from '../../src/tree/evolve.js';
import { softmax, trainingChildScores, selectionChildScores } from '../../src/tree/policy.js';
import { decideReward } from '../../src/tree/reward.js';
import { withCode } from '../support/errors.js';
import { nodeAt } from '../../src/tree/queries.js';
import type { TreeState } from '../../src/tree/state.js';
import { experiment } from './helpers.js';

// Hand-computed values for a 2-layer x 3-op space, beta = gamma = 0.96 (authors' values).
// step 0 (warm-up)        arch [0,1] loss 2.5 -> no tree update
// step 1 (tree building)  arch [0,1] loss 2.0 -> Lt1 = 0.04 * 2.0 = 0.08,              Q1 = 0.04
// step 2 (tree building)  arch [1,1] loss 1.6 -> Lt2 = 0.96 * 0.08 + 0.04 * 1.6 = 0.1408, Q2 = 0.088
const LT1 = 0.08;
const Q1 = 0.04;
const LT2 = 0.1408;
const Q2 = 0.088;
const G00 = 0.04 * Q1; // 0.0016
const G01 = 0.04 * Q2; // 0.00352
const G11 = 0.96 * (0.04 * Q1) + 0.04 * Q2; // 0.005056

function apply(state: TreeState, events: { type: string; data: unknown }[]): TreeState {
  return events.reduce((s, e) => evolve(s, e as never), state);
}

function built(hp: { tau?: number } = {}): TreeState {
  let s = fold([{ type: 'ExperimentCreated', data: experiment([3, 3], { hp }) }]);
  s = apply(s, decideReward(s, 0, [0, 1], 2.5).events);
  s = apply(s, decideReward(s, 1, [0, 1], 2.0).events);
  s = apply(s, decideReward(s, 2, [1, 1], 1.6).events);
  return s;
}

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b} (tol ${tol})`);
/** Relative tolerance: for values far from 1 (a probability of 1e-25 is not 'near' 0 to 1e-12). */
const close = (a: number, b: number, rel = 1e-9) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} != ${b} (relative ${rel})`);

describe('reward and backup (hand-computed, 2 layers x 3 ops)', () => {
  it('warm-up records the loss but leaves the tree and Ltilde alone', () => {
    const s0 = fold([{ type: 'ExperimentCreated', data: experiment([3, 3]) }]);
    const d = decideReward(s0, 0, [0, 1], 2.5);
    assert.deepEqual(d.reward, { step: 0, architecture: [0, 1], loss: 2.5, movingAverageLoss: 0, reward: 0 });
    assert.equal(d.visits, null);
    assert.deepEqual(d.events.map((e) => e.type), ['RewardRecorded']);
    const s1 = apply(s0, d.events);
    assert.equal(s1.movingAverageLoss, 0);
    assert.equal(s1.lastRewardedStep, 0);
    assert.equal(s1.tree!.size, 1);
    assert.equal(s1.tree!.n[0], 0);
  });

  it('first tree-building step: Ltilde, Q, n, S and G', () => {
    let s = fold([{ type: 'ExperimentCreated', data: experiment([3, 3]) }]);
    s = apply(s, decideReward(s, 0, [0, 1], 2.5).events);
    const d = decideReward(s, 1, [0, 1], 2.0);
    near(d.reward.movingAverageLoss, LT1);
    near(d.reward.reward, Q1);
    assert.deepEqual(d.events.map((e) => e.type), ['RewardRecorded', 'VisitCountsUpdated']);
    assert.equal(d.visits!.source, 'training');
    assert.deepEqual(d.visits!.nodes.map((n) => [n.path, n.n]), [[[], 1], [[0], 1], [[0, 1], 1]]);
    for (const n of d.visits!.nodes) near(n.s, Q1);
    assert.deepEqual(d.visits!.g.map((g) => [g.layer, g.op]), [[0, 0], [1, 1]]);
    for (const g of d.visits!.g) near(g.value, 0.0016);
  });

  it('after two tree-building steps the tree holds the hand-computed values', () => {
    const s = built();
    near(s.movingAverageLoss, LT2);
    const root = nodeAt(s, []);
    assert.equal(root.n, 2);
    near(root.s, Q1 + Q2);
    near(root.s, 0.128);
    assert.equal(nodeAt(s, [0]).n, 1);
    near(nodeAt(s, [0]).s, Q1);
    near(nodeAt(s, [0, 1]).qbar, Q1);
    near(nodeAt(s, [1]).qbar, Q2);
    near(nodeAt(s, [1, 1]).s, Q2);
    assert.equal(nodeAt(s, [2]).exists, false);
    assert.equal(nodeAt(s, [2]).qbar, 0);
    const g = s.tree!;
    near(g.gAt(0, 0), G00);
    near(g.gAt(0, 1), G01);
    near(g.gAt(0, 2), 0);
    near(g.gAt(1, 0), 0);
    near(g.gAt(1, 1), G11);
    near(g.gAt(1, 1), 0.005056);
    // The code's values against the hand-computed literals of the header comment.
    near(nodeAt(s, [1]).qbar, 0.088);
    near(s.movingAverageLoss, 0.1408);
    near(g.gAt(0, 1), 0.00352);
    near(root.s, 0.04 + 0.088);
  });

  it('UCT scores and training softmax at the root equal the hand-computed values', () => {
    const s = built();
    const scores = trainingChildScores(s.tree!, 0, 0, { c1: 0.1, c2: 0.2, tau: 0.0025 });
    const e = 0.1 * Math.sqrt(Math.log(2) / 1.1);
    near(scores[0]!.exploration, e);
    near(scores[2]!.exploration, 0.1 * Math.sqrt(Math.log(2) / 0.1));
    near(scores[0]!.u, 0.11970096752427763);
    near(scores[1]!.u, 0.16808496752427768);
    near(scores[2]!.u, 0.26327688477341593);
    close(scores[0]!.probability, 1.143690626720156e-25);
    close(scores[1]!.probability, 2.9071687843509495e-17);
    near(scores[2]!.probability, 1.0);
    // A milder temperature makes every probability visible.
    const warm = trainingChildScores(s.tree!, 0, 0, { c1: 0.1, c2: 0.2, tau: 0.05 });
    near(warm[0]!.probability, 0.046957948706805946);
    near(warm[1]!.probability, 0.1235854096130442);
    near(warm[2]!.probability, 0.8294566416801499);
  });

  it('exploration term is 0 when the parent is unvisited (and when n_p = 1)', () => {
    const s = built();
    // node [2] was never created: n_p = 0
    const unvisited = trainingChildScores(s.tree!, s.tree!.find([2]), 1, { c1: 0.1, c2: 0.2, tau: 0.05 });
    assert.deepEqual(unvisited.map((c) => c.exploration), [0, 0, 0]);
    unvisited.forEach((c, i) => near(c.u, [0, 0.2 * G11, 0][i]!));
    const expected = softmax([0, 0.2 * G11, 0], 0.05);
    unvisited.forEach((c, i) => near(c.probability, expected[i]!));
    // node [1] has n = 1: ln(1) = 0
    const once = trainingChildScores(s.tree!, s.tree!.find([1]), 1, { c1: 0.1, c2: 0.2, tau: 0.05 });
    assert.deepEqual(once.map((c) => c.exploration), [0, 0, 0]);
    near(once[0]!.probability, 0.12608456595779863);
    near(once[1]!.probability, 0.7478308680844027);
    near(once[2]!.probability, 0.12608456595779863);
  });

  it('2 layers x 2 ops: probabilities match an independent softmax to 1e-12', () => {
    let s = fold([{ type: 'ExperimentCreated', data: experiment([2, 2]) }]);
    const losses: [number[], number][] = [
      [[0, 0], 3.0],
      [[0, 0], 2.0],
      [[1, 0], 2.5],
      [[0, 1], 1.5],
    ];
    losses.forEach(([a, l], step) => (s = apply(s, decideReward(s, step, a, l).events)));
    // Recompute everything by hand from the rules.
    let lt = 0;
    const n = new Map<string, number>();
    const S = new Map<string, number>();
    const G = [
      [0, 0],
      [0, 0],
    ];
    losses.forEach(([a, l], step) => {
      if (step === 0) return; // warm-up
      lt = 0.96 * lt + 0.04 * l;
      const q = lt / l;
      for (let d = 0; d <= 2; d++) {
        const k = a.slice(0, d).join('.');
        n.set(k, (n.get(k) ?? 0) + 1);
        S.set(k, (S.get(k) ?? 0) + q);
      }
      a.forEach((op, layer) => (G[layer]![op] = 0.96 * G[layer]![op]! + 0.04 * q));
    });
    near(s.movingAverageLoss, lt);
    for (const [k, v] of n) {
      const path = k === '' ? [] : k.split('.').map(Number);
      assert.equal(nodeAt(s, path).n, v);
      near(nodeAt(s, path).s, S.get(k)!);
    }
    const np = n.get('')!;
    const u = [0, 1].map((i) => {
      const ni = n.get(String(i)) ?? 0;
      const qbar = ni ? S.get(String(i))! / ni : 0;
      return qbar + 0.1 * Math.sqrt(Math.log(np) / (ni + 0.1)) + 0.2 * G[0]![i]!;
    });
    const tau = 0.01;
    const z = u.map((x) => x / tau);
    const m = Math.max(...z);
    const ex = z.map((x) => Math.exp(x - m));
    const sum = ex[0]! + ex[1]!;
    const scores = trainingChildScores(s.tree!, 0, 0, { c1: 0.1, c2: 0.2, tau });
    near(scores[0]!.u, u[0]!);
    near(scores[1]!.u, u[1]!);
    near(scores[0]!.probability, ex[0]! / sum);
    near(scores[1]!.probability, ex[1]! / sum);
    // Search scores drop the exploration term.
    const sel = selectionChildScores(s.tree!, 0, 0, { c2: 0.2, tau });
    near(sel[0]!.u, u[0]! - 0.1 * Math.sqrt(Math.log(np) / ((n.get('0') ?? 0) + 0.1)));
  });

  it('rejects invalid losses and out-of-order rewards', () => {
    const s = fold([{ type: 'ExperimentCreated', data: experiment([3, 3]) }]);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => decideReward(s, 0, [0, 0], bad), withCode('InvalidLossError'));
    }
    assert.throws(() => decideReward(s, 1, [0, 0], 1), withCode('RewardOrderError'));
    assert.throws(() => decideReward(s, 0, [0, 3], 1), /out of range/);
    assert.throws(() => decideReward(s, 0, [0], 1), /layers/);
    // The sampled path of a step and its reward must agree.
    const sampled = evolve(s, {
      type: 'ArchitectureSampled',
      data: { step: 0, architecture: [1, 1], phase: 'warmup', sampler: 'uniform', probabilities: null, chosenProbabilities: [0.5, 0.5], flops: 1, redraws: 0 },
    });
    assert.throws(() => decideReward(sampled, 0, [0, 1], 1), withCode('RewardOrderError'));
    // Past the end of training (1 + 2 + 2 steps).
    let t = s;
    for (let step = 0; step < 5; step++) t = apply(t, decideReward(t, step, [0, 0], 2).events);
    assert.throws(() => decideReward(t, 5, [0, 0], 2), /past the end/);
  });
});
