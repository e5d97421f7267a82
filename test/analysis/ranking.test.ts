import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  averageRanks,
  jackknifeStandardError,
  kendallNullStandardError,
  kendallTau,
  spearmanRho,
  topKOverlap,
} from '../../src/analysis/rank-correlation.js';
import { meanAndStd, rankingReport, searchNumberCurve } from '../../src/analysis/ranking.js';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

// A hand-made table of 5 architectures: the supernet swaps the first pair and the middle pair.
const truth = [1, 2, 3, 4, 5];
const estimate = [2, 1, 4, 3, 5];

describe('ranking of a supernet against stand-alone accuracies', () => {
  it('Kendall tau, Spearman rho and top-k overlap of a hand-made table', () => {
    // 10 pairs, 2 discordant: (8 - 2) / 10
    close(kendallTau(truth, estimate), 0.6, 'tau');
    // sum d^2 = 4: 1 - 6 * 4 / (5 * 24)
    close(spearmanRho(truth, estimate), 0.8, 'rho');
    close(topKOverlap(truth, estimate, 1), 1, 'top-1');
    close(topKOverlap(truth, estimate, 2), 0.5, 'top-2');
    close(topKOverlap(truth, estimate, 3), 1, 'top-3');
    assert.throws(() => topKOverlap(truth, estimate, 6), /k must be/);
  });

  it('tau-b and rho with ties', () => {
    // pairs: one tied in x, two concordant: 2 / sqrt((3 - 1) * 3)
    close(kendallTau([1, 1, 2], [1, 2, 3]), 2 / Math.sqrt(6), 'tau-b');
    assert.deepEqual([...averageRanks([1, 1, 2])], [1.5, 1.5, 3]);
    close(spearmanRho([1, 1, 2], [1, 2, 3]), 1.5 / Math.sqrt(3), 'rho with ties');
  });

  it('standard errors: jackknife of the hand-made table and the null formula', () => {
    // leave-one-out taus: 2/3 four times, 1/3 once (without the top item both swaps remain)
    close(jackknifeStandardError(truth, estimate, kendallTau), 4 / 15, 'jackknife');
    close(kendallNullStandardError(5), Math.sqrt(1 / 6), 'null SE n=5');
    close(kendallNullStandardError(20), Math.sqrt(90 / 3420), 'null SE n=20');
  });

  it('the report bundles them and refuses mismatched or tiny samples', () => {
    const r = rankingReport(truth, estimate, [2, 3, 10]);
    assert.equal(r.n, 5);
    close(r.kendallTau, 0.6, 'tau');
    close(r.kendallTauStandardError, 4 / 15, 'SE');
    assert.deepEqual(r.topKOverlap, [{ k: 2, overlap: 0.5 }, { k: 3, overlap: 1 }]);
    assert.throws(() => rankingReport([1, 2], [1, 2], []), /at least 3/);
    assert.throws(() => rankingReport([1, 2, 3], [1, 2], []), /truth has 3 values, estimate 2/);
  });
});

describe('search-number curve over a sample', () => {
  it('exact expectations on the hand-made table', () => {
    const [k1, k2, k5] = searchNumberCurve(truth, estimate, [1, 2, 5]);
    // K = 1: a uniform draw
    close(k1!.chosenTruth, 3, 'K=1 truth');
    close(k1!.bestTruth, 3, 'K=1 best');
    // K = 2: places by supernet 4,2,3,0,1 are chosen with probability 4/10, 3/10, 2/10, 1/10, 0
    close(k2!.chosenTruth, 0.4 * 5 + 0.3 * 3 + 0.2 * 4 + 0.1 * 1, 'K=2 truth');
    close(k2!.chosenEstimate, 4, 'K=2 estimate');
    close(k2!.bestTruth, 4, 'K=2 best');
    // K = n: the supernet's favourite
    close(k5!.chosenTruth, 5, 'K=5');
    assert.throws(() => searchNumberCurve(truth, estimate, [6]), /K must be/);
  });

  it('agrees with enumerating every draw', () => {
    const t = [91.2, 90.1, 93.4, 92.0, 90.1, 94.0, 89.5];
    const e = [70.3, 72.9, 71.0, 71.0, 69.2, 73.5, 68.8];
    for (const k of [1, 2, 3, 4, 7]) {
      let chosen = 0;
      let best = 0;
      let draws = 0;
      for (let mask = 0; mask < 1 << t.length; mask++) {
        const members = t.map((_, i) => i).filter((i) => mask & (1 << i));
        if (members.length !== k) continue;
        draws++;
        const pick = members.reduce((a, b) => (e[b]! > e[a]! ? b : a));
        chosen += t[pick]!;
        best += Math.max(...members.map((i) => t[i]!));
      }
      const [point] = searchNumberCurve(t, e, [k]);
      assert.ok(Math.abs(point!.chosenTruth - chosen / draws) < 1e-9, `K=${k} chosen`);
      assert.ok(Math.abs(point!.bestTruth - best / draws) < 1e-9, `K=${k} best`);
    }
  });

  it('mean and sample standard deviation', () => {
    assert.deepEqual(meanAndStd([1, 2, 3]), { mean: 2, std: 1, n: 3 });
    assert.deepEqual(meanAndStd([4]), { mean: 4, std: 0, n: 1 });
  });
});
