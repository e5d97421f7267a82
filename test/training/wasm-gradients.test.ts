import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type Tensor4D } from '../../src/training/tf.js';
import { useBackend } from './support.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  kernel: number;
  stride: number;
  pad: Pad;
  height: number;
  width: number;
  channels: number;
}

const cases: Case[] = [
  { kernel: 3, stride: 1, pad: 'same', height: 6, width: 7, channels: 4 },
  { kernel: 3, stride: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], height: 7, width: 8, channels: 3 },
  { kernel: 5, stride: 2, pad: 'same', height: 8, width: 9, channels: 2 },
  { kernel: 5, stride: 1, pad: [[0, 0], [2, 2], [2, 2], [0, 0]], height: 5, width: 6, channels: 3 },
  { kernel: 3, stride: 2, pad: 'valid', height: 8, width: 7, channels: 2 },
  { kernel: 1, stride: 2, pad: 'valid', height: 7, width: 7, channels: 3 },
  { kernel: 7, stride: 1, pad: [[0, 0], [3, 3], [3, 3], [0, 0]], height: 4, width: 4, channels: 2 },
  // 9 channels: two 4-lane SIMD steps and a scalar tail in the depthwise filter gradient.
  { kernel: 3, stride: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], height: 6, width: 5, channels: 9 },
];

/** Gradients of sum(conv(x, w) * r) for a fixed, non-uniform r, on the active backend. */
function gradients(c: Case, depthwise: boolean): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomNormal([2, c.height, c.width, c.channels], 0, 1, 'float32', 1) as Tensor4D;
    const w = tf.randomNormal([c.kernel, c.kernel, c.channels, depthwise ? 1 : 5], 0, 1, 'float32', 2) as Tensor4D;
    const f = (xi: Tensor4D, wi: Tensor4D) => {
      const y = depthwise ? tf.depthwiseConv2d(xi, wi, c.stride, c.pad) : tf.conv2d(xi, wi, c.stride, c.pad);
      return tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));
    };
    return tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([x, w]);
  }).map((g) => {
    const v = g.dataSync() as Float32Array;
    g.dispose();
    return v;
  });
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(actual[i]! - expected[i]!) / scale);
  return err;
}

describe('wasm replacements for the missing convolution gradient kernels', () => {
  before(() => useBackend('wasm'));

  for (const depthwise of [false, true]) {
    const op = depthwise ? 'depthwiseConv2d' : 'conv2d';
    for (const c of cases) {
      it(`${op} k${c.kernel} s${c.stride} pad ${JSON.stringify(c.pad)}: input and filter gradients match the cpu backend`, async () => {
        await useBackend('cpu');
        const expected = gradients(c, depthwise);
        await useBackend('wasm');
        const actual = gradients(c, depthwise);
        assert.equal(actual.length, 2);
        actual.forEach((g, i) => {
          assert.equal(g.length, expected[i]!.length);
          assert.ok(maxRelativeError(g, expected[i]!) < 1e-5, `${['input', 'filter'][i]} gradient differs from cpu`);
        });
      });
    }
  }

  it('leave no tensors behind', () => {
    gradients(cases[2]!, true);
    gradients(cases[2]!, false);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      gradients(cases[2]!, true);
      gradients(cases[2]!, false);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('refuse dilated convolutions instead of computing a wrong gradient', () => {
    const x = tf.ones([1, 5, 5, 2]);
    const dy = tf.ones([1, 5, 5, 2]);
    const attrs = { strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 2, 1] };
    assert.throws(
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap),
      /wasm replacement\): only dilation 1/,
    );
    tf.dispose([x, dy]);
  });
});
