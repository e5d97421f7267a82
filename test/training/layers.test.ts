import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor4D } from '../../src/training/tf.js';
import { batchNormTrain, matMulFast, smoothedCrossEntropy, subsample } from '../../src/training/layers.js';
import { useBackend } from './support.js';

function close(actual: Tensor, expected: Tensor, tolerance = 1e-4): void {
  const a = actual.dataSync();
  const e = expected.dataSync();
  assert.equal(a.length, e.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= tolerance * Math.max(1, Math.abs(e[i]!)), `element ${i}: ${a[i]} vs ${e[i]}`);
  }
}

/** A non-uniform upstream gradient, so every path of a backward pass matters. */
const weightOf = (y: Tensor): Tensor => tf.cos(tf.reshape(tf.range(0, y.size), y.shape));

describe('supernet layers (hand-written gradients checked against tfjs autodiff)', () => {
  before(() => useBackend('wasm'));

  it('matMulFast has the value and gradients of tf.matMul', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([7, 3], 0, 1, 'float32', 1) as Tensor2D;
      const b = tf.randomNormal([3, 5], 0, 1, 'float32', 2) as Tensor2D;
      const loss = (mm: (x: Tensor2D, y: Tensor2D) => Tensor2D) => (x: Tensor, y: Tensor) => {
        const out = mm(x as Tensor2D, y as Tensor2D);
        return tf.sum(tf.mul(out, weightOf(out)));
      };
      close(matMulFast(a, b), tf.matMul(a, b));
      const [ga, gb] = tf.grads(loss(matMulFast))([a, b]);
      const [ra, rb] = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
      close(ga!, ra!);
      close(gb!, rb!);
    });
  });

  for (const fuseRelu of [false, true]) {
    it(`batchNormTrain${fuseRelu ? ' fused with ReLU' : ''} matches BN written with tf.moments, value and gradients`, () => {
      tf.tidy(() => {
        const x = tf.add(tf.mul(tf.randomNormal([3, 4, 5, 6], 0, 1, 'float32', 3), 2), 0.5) as Tensor4D;
        const gamma = tf.randomNormal([6], 1, 0.3, 'float32', 4) as Tensor1D;
        const beta = tf.randomNormal([6], 0, 0.3, 'float32', 5) as Tensor1D;
        const reference = (xi: Tensor4D, g: Tensor1D, b: Tensor1D): Tensor4D => {
          const { mean, variance } = tf.moments(xi, [0, 1, 2]);
          const y = tf.add(tf.mul(tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b) as Tensor4D;
          return fuseRelu ? tf.relu(y) : y;
        };
        let stats: { mean: Tensor; variance: Tensor; count: number } | undefined;
        const ours = (xi: Tensor4D, g: Tensor1D, b: Tensor1D): Tensor4D =>
          batchNormTrain(xi, g, b, 1e-5, fuseRelu, (s) => {
            stats = { mean: tf.keep(s.mean), variance: tf.keep(s.variance), count: s.count };
          });
        close(ours(x, gamma, beta), reference(x, gamma, beta));
        const moments = tf.moments(x, [0, 1, 2]);
        close(stats!.mean, moments.mean);
        close(stats!.variance, moments.variance);
        assert.equal(stats!.count, 3 * 4 * 5);
        tf.dispose([stats!.mean, stats!.variance]);
        const loss = (f: typeof ours) => (...t: Tensor[]) => {
          const y = f(t[0] as Tensor4D, t[1] as Tensor1D, t[2] as Tensor1D);
          return tf.sum(tf.mul(y, weightOf(y)));
        };
        const g1 = tf.grads(loss(ours))([x, gamma, beta]);
        const g2 = tf.grads(loss(reference))([x, gamma, beta]);
        g1.forEach((g, i) => close(g, g2[i]!, 2e-4));
      });
    });
  }

  it('subsample keeps every stride-th pixel from the first (a strided 1x1 convolution) and routes gradients back there', () => {
    tf.tidy(() => {
      const x = tf.reshape(tf.range(0, 2 * 5 * 5 * 3), [2, 5, 5, 3]) as Tensor4D;
      const y = subsample(x, 2);
      assert.deepEqual(y.shape, [2, 3, 3, 3]);
      close(y, tf.stridedSlice(x, [0, 0, 0, 0], [2, 5, 5, 3], [1, 2, 2, 1]));
      const [g] = tf.grads((xi: Tensor) => tf.sum(subsample(xi as Tensor4D, 2)))([x]);
      const expected = tf.buffer([2, 5, 5, 3]);
      for (let n = 0; n < 2; n++) for (const h of [0, 2, 4]) for (const w of [0, 2, 4]) for (let c = 0; c < 3; c++) expected.set(1, n, h, w, c);
      close(g!, expected.toTensor());
    });
  });

  it('smoothedCrossEntropy is cross-entropy against (1 - eps) one-hot + eps / K targets', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([[2, 0, -1], [0.5, 0.5, 3]]);
      const labels = tf.tensor1d([0, 2], 'int32');
      const lsm = tf.logSoftmax(logits).arraySync();
      const eps = 0.1;
      const expected = -(
        [0, 1, 2].reduce((s, j) => s + (j === 0 ? 1 - eps + eps / 3 : eps / 3) * lsm[0]![j]!, 0) +
        [0, 1, 2].reduce((s, j) => s + (j === 2 ? 1 - eps + eps / 3 : eps / 3) * lsm[1]![j]!, 0)
      ) / 2;
      assert.ok(Math.abs(smoothedCrossEntropy(logits, labels, eps).dataSync()[0]! - expected) < 1e-6);
      const plain = -(lsm[0]![0]! + lsm[1]![2]!) / 2;
      assert.ok(Math.abs(smoothedCrossEntropy(logits, labels, 0).dataSync()[0]! - plain) < 1e-6);
    });
  });
});

describe('the search validation loss is the training criterion', () => {
  before(() => useBackend('wasm'));

  it('classificationResult: criterionLoss is the label-smoothed cross-entropy of the training step (hand-worked and against smoothedCrossEntropy)', async () => {
    const { classificationResult } = await import('../../src/training/supernet.js');
    // One sample, two classes, logits [ln 3, 0], label 0: p = (3/4, 1/4), lse = ln 4.
    // CE = ln 4 - ln 3; smoothed (eps 0.1) = 0.9 (ln 4 - ln 3) + 0.1 (ln 4 - ln 3 / 2).
    const r = classificationResult(Float32Array.from([Math.log(3), 0]), Int32Array.from([0]), 2, 0.1);
    const ce = Math.log(4) - Math.log(3);
    const smoothed = 0.9 * ce + 0.1 * (Math.log(4) - Math.log(3) / 2);
    assert.ok(Math.abs(r.loss - ce) <= 1e-6 * ce, `${r.loss} vs ${ce}`);
    assert.ok(Math.abs(r.criterionLoss - smoothed) <= 1e-6 * smoothed, `${r.criterionLoss} vs ${smoothed}`);
    assert.ok(r.criterionLoss > r.loss, 'smoothing raises the loss of a confident correct prediction');
    // Random logits: the same number the training step's criterion computes.
    const logits = tf.randomNormal([6, 5], 0, 2, 'float32', 3) as Tensor2D;
    const labels = Int32Array.from([0, 4, 2, 2, 1, 3]);
    const expected = smoothedCrossEntropy(logits, tf.tensor1d(labels, 'int32') as Tensor1D, 0.1).dataSync()[0]!;
    const got = classificationResult(logits.dataSync() as Float32Array, labels, 5, 0.1);
    assert.ok(Math.abs(got.criterionLoss - expected) <= 1e-5 * expected, `${got.criterionLoss} vs ${expected}`);
    // Without smoothing the criterion is plain cross-entropy.
    const plain = classificationResult(logits.dataSync() as Float32Array, labels, 5, 0);
    assert.equal(plain.criterionLoss, plain.loss);
  });
});
