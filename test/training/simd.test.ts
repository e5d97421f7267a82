import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simdArrays } from '../../src/training/simd.js';

describe('the WebAssembly SIMD multiply-accumulate', () => {
  it('adds x[i] * g[i] to out[i] for every length (4-lane steps and scalar tail), with float32 rounding', () => {
    for (let n = 0; n <= 9; n++) {
      const { views, addresses, accumulateProducts } = simdArrays([n, n, n]);
      const [out, x, g] = views as [Float32Array, Float32Array, Float32Array];
      for (let i = 0; i < n; i++) {
        out[i] = i / 3;
        x[i] = 1.1 * (i + 1);
        g[i] = -0.7 * i;
      }
      const expected = Float32Array.from(out, (o, i) => Math.fround(o + Math.fround(x[i]! * g[i]!)));
      accumulateProducts(addresses[0]!, addresses[1]!, addresses[2]!, n);
      assert.deepEqual(out, expected, `n = ${n}`);
    }
  });

  it('works at any offset into the arrays and grows its memory for large inputs', () => {
    const n = 100_000;
    const { views, addresses, accumulateProducts } = simdArrays([n, n, n]);
    const [out, x, g] = views as [Float32Array, Float32Array, Float32Array];
    out.fill(1);
    x.fill(2);
    g.fill(3);
    accumulateProducts(addresses[0]! + 4 * 99_990, addresses[1]!, addresses[2]! + 4 * 5, 10);
    assert.equal(out[99_989], 1);
    assert.deepEqual(Array.from(out.subarray(99_990)), new Array(10).fill(7));
  });
});
