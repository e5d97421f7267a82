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
import { meanAndStd, rankingReport } from '../../src/analysis/ranking.js';

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

describe('summaries over seeds', () => {
  it('mean and sample standard deviation', () => {
    assert.deepEqual(meanAndStd([1, 2, 3]), { mean: 2, std: 1, n: 3 });
    assert.deepEqual(meanAndStd([4]), { mean: 4, std: 0, n: 1 });
  });
});
