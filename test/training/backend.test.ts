import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/training/tf.js';
import { BACKEND_ORDER, parseBackendName, selectBackend } from '../../src/training/backend.js';

describe('selectBackend', () => {
  it('tries native GPU, native CPU, wasm, cpu in that order; here the native packages are absent, so wasm runs', async () => {
    const lines: string[] = [];
    const selection = await selectBackend(undefined, (l) => lines.push(l));
    assert.deepEqual(BACKEND_ORDER, ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    assert.equal(selection.backend, 'wasm');
    assert.equal(selection.engineBackend, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(selection.skipped.map((s) => s.backend), ['tfjs-node-gpu', 'tfjs-node']);
    for (const s of selection.skipped) assert.match(s.reason, /Cannot find (package|module)/);
    assert.equal(lines.length, 3, 'one line per skipped backend and one for the active one');
    assert.match(lines[2]!, /wasm active/);
  });

  it('the wasm backend has the convolution gradient kernels tfjs-backend-wasm lacks', async () => {
    await selectBackend('wasm', () => {});
    for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      assert.ok(tf.getKernel(k, 'wasm'), k);
    }
  });

  it('a forced backend (argument or TF_BACKEND) is used, and the others are reported as passed over', async () => {
    const selection = await selectBackend('cpu', () => {});
    assert.equal(selection.backend, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(selection.skipped, [
      { backend: 'tfjs-node-gpu', reason: 'TF_BACKEND forces cpu' },
      { backend: 'tfjs-node', reason: 'TF_BACKEND forces cpu' },
      { backend: 'wasm', reason: 'TF_BACKEND forces cpu' },
    ]);
    process.env['TF_BACKEND'] = 'wasm';
    try {
      assert.equal((await selectBackend(undefined, () => {})).backend, 'wasm');
    } finally {
      delete process.env['TF_BACKEND'];
    }
  });

  it('a forced backend that cannot run is an error, never a silent fallback', async () => {
    await assert.rejects(selectBackend('tfjs-node', () => {}), /TF_BACKEND forces tfjs-node, which cannot run/);
  });

  it('accepts short aliases and rejects unknown names', () => {
    assert.equal(parseBackendName('GPU'), 'tfjs-node-gpu');
    assert.equal(parseBackendName('tensorflow'), 'tfjs-node');
    assert.throws(() => parseBackendName('webgl'), /unknown TF_BACKEND 'webgl'/);
  });
});
