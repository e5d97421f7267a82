import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { philox4x32, rngFor, uniformAt } from '../../src/random/counter-rng.js';

const hex = (words: Uint32Array): string[] => Array.from(words, (w) => w.toString(16).padStart(8, '0'));

/** Pearson's chi-square statistic of observed counts against equal expected counts. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

function histogram(values: readonly number[], bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.floor(v * bins)]!++;
  return counts;
}

function correlation(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function draws(seed: number, step: number, purpose: string, n: number): number[] {
  const rng = rngFor(seed, step, purpose);
  return Array.from({ length: n }, () => rng.next());
}

// Upper 0.1% points of the chi-square distribution: a correct generator exceeds them once in
// a thousand seeds; the fixed seeds below were not chosen to pass.
const CHI2_999 = { df5: 20.515, df6: 22.458, df19: 43.82, df99: 148.23 };

describe('Philox-4x32-10 block function', () => {
  it('given the Random123 known-answer vectors, then it reproduces them', () => {
    assert.deepEqual(hex(philox4x32([0, 0, 0, 0], [0, 0])), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    const ones = 0xffffffff;
    assert.deepEqual(hex(philox4x32([ones, ones, ones, ones], [ones, ones])), [
      '408f276d',
      '41c83b0e',
      'a20bc7c6',
      '6d5451fd',
    ]);
    assert.deepEqual(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])), [
      'd16cfe09',
      '94fdcceb',
      '5001e420',
      '24126ea1',
    ]);
  });
});

describe('uniformAt', () => {
  it('given the same (seed, step, purpose, index), then it returns the same 53-bit value', () => {
    const expected = [2930770979274073, 4685685815783224, 6450788618927916, 5400551983430964];
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => uniformAt(42, 0, 'mct/sample', i) * 2 ** 53),
      expected,
    );
    assert.equal(uniformAt(42, 0, 'mct/sample', 2), 6450788618927916 / 2 ** 53);
  });

  it('given draws interleaved across streams, then each value depends only on its own arguments', () => {
    const a = uniformAt(1, 5, 'a', 10);
    uniformAt(2, 6, 'b', 11);
    assert.equal(uniformAt(1, 5, 'a', 10), a);
  });

  it('given 10k draws, then all lie in [0, 1) and use more than 32 bits of resolution', () => {
    const values = draws(3, 0, 'resolution', 10_000);
    assert.ok(values.every((v) => v >= 0 && v < 1));
    assert.ok(values.every((v) => Number.isInteger(v * 2 ** 53)));
    assert.ok(values.filter((v) => !Number.isInteger(v * 2 ** 32)).length > 9_900);
  });

  it('given out-of-range arguments, then it throws a RangeError naming the argument', () => {
    assert.throws(() => uniformAt(-1, 0, 'p', 0), /seed must be an integer in \[0, 2\^32\)/);
    assert.throws(() => uniformAt(2 ** 32, 0, 'p', 0), RangeError);
    assert.throws(() => uniformAt(1.5, 0, 'p', 0), RangeError);
    assert.throws(() => uniformAt(0, -1, 'p', 0), /step must be/);
    assert.throws(() => uniformAt(0, 0, '', 0), /purpose must be a non-empty string/);
    assert.throws(() => uniformAt(0, 0, 'p', -1), /index must be/);
    assert.throws(() => uniformAt(0, 0, 'p', 2 ** 33), /index must be/);
  });

  it('given the largest index, then it still draws', () => {
    const v = uniformAt(0, 0, 'p', 2 ** 33 - 1);
    assert.ok(v >= 0 && v < 1);
  });
});

describe('rngFor', () => {
  it('given a stream, then its i-th next() equals uniformAt(seed, step, purpose, i) and drawn counts draws', () => {
    const rng = rngFor(9, 123, 'search/fill');
    for (let i = 0; i < 1_000; i++) {
      assert.equal(rng.drawn, i);
      assert.equal(rng.next(), uniformAt(9, 123, 'search/fill', i));
    }
    assert.equal(rng.drawn, 1_000);
  });

  it('given two cursors on one stream, then they yield identical sequences (no hidden state)', () => {
    assert.deepEqual(draws(5, 7, 'x', 100), draws(5, 7, 'x', 100));
  });

  it('given different purposes, steps or seeds, then the streams differ and are uncorrelated', () => {
    const base = draws(11, 20, 'mct/sample', 10_000);
    const others = [draws(11, 20, 'mct/samplf', 10_000), draws(11, 21, 'mct/sample', 10_000), draws(12, 20, 'mct/sample', 10_000)];
    for (const other of others) {
      assert.equal(base.filter((v, i) => v === other[i]).length, 0);
      // Standard deviation of the sample correlation of independent streams is 0.01.
      assert.ok(Math.abs(correlation(base, other)) < 0.04, `correlation ${correlation(base, other)}`);
    }
  });

  it('given 10k draws, then 20 equal bins pass a chi-square test that a skewed generator fails', () => {
    const values = draws(2021, 0, 'uniformity', 10_000);
    const chi2 = chiSquare(histogram(values, 20));
    assert.ok(chi2 < CHI2_999.df19, `chi-square ${chi2}`);
    // The same test rejects a mildly broken generator (u^1.1 instead of u).
    const skewed = chiSquare(histogram(values.map((v) => v ** 1.1), 20));
    assert.ok(skewed > CHI2_999.df19, `skewed chi-square ${skewed}`);
  });

  it('given 10k consecutive pairs, then the 10x10 grid of pairs is uniform (no serial correlation)', () => {
    const values = draws(77, 4, 'pairs', 20_000);
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < values.length; i += 2) {
      counts[Math.floor(values[i]! * 10) * 10 + Math.floor(values[i + 1]! * 10)]!++;
    }
    assert.ok(chiSquare(counts) < CHI2_999.df99, `chi-square ${chiSquare(counts)}`);
    assert.ok(Math.abs(correlation(values.filter((_, i) => i % 2 === 0), values.filter((_, i) => i % 2 === 1))) < 0.04);
  });
});

describe('Rng.nextInt', () => {
  it('given n = 10, then it returns the pinned sequence', () => {
    const rng = rngFor(7, 3, 'ints');
    assert.deepEqual(
      Array.from({ length: 10 }, () => rng.nextInt(10)),
      [6, 4, 1, 6, 3, 6, 5, 2, 3, 8],
    );
  });

  it('given n = 7 and 70k draws, then every value is in 0..6 and the counts are uniform', () => {
    const rng = rngFor(1, 0, 'dice');
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) {
      const v = rng.nextInt(7);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 7);
      counts[v]!++;
    }
    assert.ok(chiSquare(counts) < CHI2_999.df6, `chi-square ${chiSquare(counts)} for ${counts.join(',')}`);
    assert.equal(rng.drawn, 70_000);
  });

  it('given a small n, then the result is the draw\'s 53-bit integer modulo n', () => {
    const rng = rngFor(4, 4, 'modulo');
    for (let i = 0; i < 100; i++) {
      assert.equal(rng.nextInt(1000), (uniformAt(4, 4, 'modulo', i) * 2 ** 53) % 1000);
    }
  });

  it('given n = 2^52 + 1, then draws at or above the largest multiple of n are rejected (exactly unbiased)', () => {
    // 2^53 holds one whole multiple of 2^52 + 1, so about half of all draws are rejected.
    const n = 2 ** 52 + 1;
    const rng = rngFor(8, 0, 'rejection');
    let index = 0;
    for (let call = 0; call < 200; call++) {
      let r = uniformAt(8, 0, 'rejection', index++) * 2 ** 53;
      while (r >= n) r = uniformAt(8, 0, 'rejection', index++) * 2 ** 53;
      assert.equal(rng.nextInt(n), r);
    }
    assert.equal(rng.drawn, index);
    assert.ok(index > 300 && index < 500, `${index} draws for 200 integers`);
  });

  it('given n = 1 or n = 2^53, then results stay in range', () => {
    const rng = rngFor(0, 0, 'edges');
    assert.equal(rng.nextInt(1), 0);
    const big = rng.nextInt(2 ** 53);
    assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 53);
  });

  it('given an invalid bound, then it throws a RangeError', () => {
    const rng = rngFor(0, 0, 'bad');
    for (const n of [0, -1, 2.5, Number.NaN, 2 ** 53 + 2]) {
      assert.throws(() => rng.nextInt(n), /nextInt bound must be an integer in \[1, 2\^53\]/);
    }
  });
});

describe('Rng.shuffle', () => {
  it('given an array, then it permutes it in place, deterministically', () => {
    const items = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const rng = rngFor(7, 3, 'shuffle');
    const result = rng.shuffle(items);
    assert.equal(result, items);
    assert.deepEqual(items, [8, 0, 2, 5, 4, 9, 1, 6, 3, 7]);
    assert.equal(rng.drawn, 9);
  });

  it('given 6000 shuffles of three items, then all six orders are equally likely', () => {
    const counts = new Map<string, number>();
    const rng = rngFor(3, 0, 'shuffle3');
    for (let i = 0; i < 6_000; i++) {
      const order = rng.shuffle(['a', 'b', 'c']).join('');
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    assert.ok(chiSquare([...counts.values()]) < CHI2_999.df5, `chi-square ${chiSquare([...counts.values()])}`);
  });

  it('given an empty or one-element array, then it draws nothing', () => {
    const rng = rngFor(0, 0, 'tiny');
    assert.deepEqual(rng.shuffle([]), []);
    assert.deepEqual(rng.shuffle([1]), [1]);
    assert.equal(rng.drawn, 0);
  });
});
