import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { imagenetMctNas, nasBenchMacro, scaledSpace } from '../../src/search-space/presets.js';
import { SearchSpace } from '../../src/search-space/search-space.js';
import type { Architecture, SearchSpaceDefinition } from '../../src/search-space/definition.js';
import { tf } from '../../src/training/tf.js';
import { cosineLr, Supernet, type SupernetOptions } from '../../src/training/supernet.js';
import { nasBenchMacroJson } from '../support/paths.js';
import { sameBits, syntheticBatch, tinyMacroSpace, useBackend } from './support.js';

const space = tinyMacroSpace();
const A: Architecture = [2, 1, 2, 0, 1, 2, 1, 0];
const B: Architecture = [1, 2, 0, 2, 2, 1, 0, 1];
const batch = syntheticBatch(space, 8);
const batch2 = syntheticBatch(space, 8, 3);

function net(options: Partial<SupernetOptions> = {}, def: SearchSpaceDefinition = space): Supernet {
  return new Supernet(def, { seed: 7, weightDecay: 5e-4, ...options });
}

function snapshot(n: Supernet, names: readonly string[]): Map<string, Float32Array> {
  return new Map(names.map((name) => [name, n.read(name)]));
}

/**
 * Per-channel mean and unbiased variance of the stem BN's input, conv(x, w) with PyTorch's
 * padding 1, computed independently of the supernet.
 */
function stemStatistics(n: Supernet, b: typeof batch): { mean: Float32Array; variance: Float32Array } {
  const [mean, variance] = tf.tidy(() => {
    const size = space.input.size;
    const x = tf.tensor4d(b.images, [b.labels.length, size, size, 1]);
    const w = tf.tensor4d(n.read('stem.conv.w'), n.variableShape('stem.conv.w') as [number, number, number, number]);
    const moments = tf.moments(tf.conv2d(x, w, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), [0, 1, 2]);
    const count = b.labels.length * size * size;
    return [moments.mean, tf.mul(moments.variance, count / (count - 1))];
  });
  const out = { mean: mean!.dataSync() as Float32Array, variance: variance!.dataSync() as Float32Array };
  tf.dispose([mean!, variance!]);
  return out;
}

function sameArray(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => sameBits(v, b[i]!));
}

describe('Supernet', () => {
  before(() => useBackend('wasm'));

  describe('construction', () => {
    it('holds one set of weights per (layer, op), named l<layer>.op<op>.<part>, and none for a shape-preserving identity', () => {
      const n = net();
      const names = n.variableNames;
      assert.ok(names.includes('stem.conv.w') && names.includes('head.conv.w') && names.includes('classifier.b'));
      const cin = space.layers[0]!.channels;
      assert.deepEqual(n.variableShape('l1.op2.expand.w'), [cin, cin * 6]);
      assert.deepEqual(n.variableShape('l1.op2.dw.w'), [5, 5, cin * 6, 1]);
      assert.deepEqual(n.variableShape('l1.op1.dw.w'), [3, 3, cin * 3, 1]);
      assert.ok(names.includes('l0.op0.down.w'), 'a stride-2 identity is a 1x1 conv + BN');
      assert.ok(!names.some((v) => v.startsWith('l1.op0.')), 'a shape-preserving identity has no weights');
      assert.deepEqual(n.pathVariableNames([0, 0, 0, 0, 0, 0, 0, 0]).filter((v) => v.startsWith('l')), [
        'l0.op0.down.w', 'l0.op0.down.bn.gamma', 'l0.op0.down.bn.beta',
        'l2.op0.down.w', 'l2.op0.down.bn.gamma', 'l2.op0.down.bn.beta',
        'l5.op0.down.w', 'l5.op0.down.bn.gamma', 'l5.op0.down.bn.beta',
      ]);
      n.dispose();
    });

    it('at full width, every path has exactly the parameter count of the NAS-Bench-Macro table and of the search space', () => {
      const table = JSON.parse(readFileSync(nasBenchMacroJson, 'utf8')) as Record<string, { params: number }>;
      const n = new Supernet(nasBenchMacro, { seed: 1 });
      const ss = SearchSpace.fromDefinition(nasBenchMacro);
      for (const key of ['00000000', '22222222', '11111111', '22212220', '02012100', '10201021', '01220110']) {
        const arch = [...key].map(Number);
        assert.equal(n.pathParameterCount(arch), table[key]!.params, key);
        assert.equal(n.pathParameterCount(arch), ss.params(arch), key);
      }
      n.dispose();
    });

    it('draws initial weights from the seed only: the same seed gives the same bytes, another seed other weights', () => {
      const [a, b, c] = [net(), net(), net({ seed: 8 })];
      assert.ok(a.saveWeights().equals(b.saveWeights()));
      assert.ok(!sameArray(a.read('l1.op2.expand.w'), c.read('l1.op2.expand.w')));
      // He-normal: std sqrt(2 / fan_in); BN starts at gamma 1, beta 0.
      const w = a.read('l1.op2.expand.w');
      const fanIn = a.variableShape('l1.op2.expand.w')[0]!;
      const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
      assert.ok(Math.abs(std / Math.sqrt(2 / fanIn) - 1) < 0.15, `std ${std}`);
      assert.ok(a.read('l1.op2.dw.bn.gamma').every((v) => v === 1));
      assert.ok(a.read('l1.op2.dw.bn.beta').every((v) => v === 0));
      [a, b, c].forEach((n) => n.dispose());
    });

    it('builds the paper ImageNet space (13 ops x 21 layers, SE, swish) and runs a path on tiny inputs', () => {
      const def = scaledSpace(imagenetMctNas, { inputSize: 32 });
      const ss = SearchSpace.fromDefinition(def);
      const n = new Supernet(def, { seed: 1, labelSmoothing: 0.1 });
      // Variables: stem conv + BN (3), the fixed k3 e1 block (dw + BN, project + BN: 6), per layer
      // 3 for an identity that changes shape, 9 per MBConv (expand, dw, project, each + BN),
      // 13 with SE (two biased FCs more); head conv + BN and classifier (5).
      let expectedVariables = 3 + 6 + 5;
      let channels = def.stem.blocks![0]!.channels;
      for (const layer of def.layers) {
        if (layer.stride !== 1 || layer.channels !== channels) expectedVariables += 3;
        expectedVariables += layer.ops.filter((o) => o.type === 'mbconv').reduce((s, o) => s + (o.type === 'mbconv' && o.se ? 13 : 9), 0);
        channels = layer.channels;
      }
      assert.equal(n.variableNames.length, expectedVariables);
      assert.equal(n.variableNames.length, 2804);
      const zeros = def.layers.map(() => 0);
      const fixed = ss.params(zeros) - zeros.reduce((s, op, l) => s + ss.opCost(l, op).params, 0);
      const all = def.layers.reduce((s, layer, l) => s + layer.ops.reduce((t, _, o) => t + ss.opCost(l, o).params, 0), fixed);
      assert.equal(n.parameterCount, all);
      const arch = def.layers.map((_, l) => (l * 5) % 13);
      assert.equal(n.pathParameterCount(arch), ss.params(arch));
      const images = new Float32Array(2 * 32 * 32 * 3).map((_, i) => Math.sin(i));
      const loss = n.trainStep(arch, images, Int32Array.from([3, 999]), 0.01);
      assert.ok(Number.isFinite(loss) && loss > 0);
      n.dispose();
    });

    it('rejects architectures that do not fit the space, images of the wrong size and unknown labels', () => {
      const n = net();
      assert.throws(() => n.trainStep([0, 1], batch.images, batch.labels, 0.1), /2 layers, the space 8/);
      assert.throws(() => n.evaluateBatch([0, 0, 0, 0, 0, 0, 0, 3], batch.images, batch.labels), /layer 7: op 3/);
      assert.throws(() => n.trainStep(A, batch.images.subarray(1), batch.labels, 0.1), /images hold/);
      const labels = Int32Array.from(batch.labels, (l, i) => (i === 3 ? 10 : l));
      assert.throws(() => n.trainStep(A, batch.images, labels, 0.1), /label 10 of sample 3 is outside \[0, 10\)/);
      n.dispose();
    });
  });

  describe('training', () => {
    it('lowers the loss of a path trained on a fixed batch', () => {
      const n = net();
      const first = n.trainStep(A, batch.images, batch.labels, 0.05);
      let last = first;
      for (let i = 0; i < 14; i++) last = n.trainStep(A, batch.images, batch.labels, 0.05);
      assert.ok(last < first * 0.6, `loss ${first} -> ${last}`);
      n.dispose();
    });

    it('updates only the variables of the sampled path', () => {
      const n = net();
      const onPath = new Set(n.pathVariableNames(A));
      const before = snapshot(n, n.variableNames);
      n.trainStep(A, batch.images, batch.labels, 0.1);
      for (const name of n.variableNames) {
        const changed = !sameArray(before.get(name)!, n.read(name));
        assert.equal(changed, onPath.has(name), name);
      }
      n.dispose();
    });

    it('applies coupled weight decay (g + wd * w) to conv and linear weights, never to BN parameters or biases', () => {
      const plain = net({ weightDecay: 0 });
      const decayed = net({ weightDecay: 0.01 });
      const w0 = snapshot(plain, plain.pathVariableNames(A));
      plain.trainStep(A, batch.images, batch.labels, 0.5);
      decayed.trainStep(A, batch.images, batch.labels, 0.5);
      for (const [name, w] of w0) {
        const difference = decayed.read(name).map((v, i) => v - plain.read(name)[i]!);
        const expected = /\.w$/.test(name) ? w.map((v) => -0.5 * 0.01 * v) : new Float32Array(w.length);
        difference.forEach((d, i) => assert.ok(Math.abs(d - expected[i]!) < 1e-6, `${name}[${i}]: ${d} vs ${expected[i]}`));
      }
      [plain, decayed].forEach((n) => n.dispose());
    });

    it('uses momentum 0.9: a second step moves each weight by 0.9 x the first step more than plain SGD does', () => {
      const sgd = net({ momentum: 0, weightDecay: 0 });
      const heavy = net({ momentum: 0.9, weightDecay: 0 });
      const names = sgd.pathVariableNames(A);
      const w0 = snapshot(sgd, names);
      [sgd, heavy].forEach((n) => n.trainStep(A, batch.images, batch.labels, 0.1));
      const w1 = snapshot(sgd, names);
      [sgd, heavy].forEach((n) => n.trainStep(A, batch.images, batch.labels, 0.1));
      for (const name of names) {
        const extra = heavy.read(name).map((v, i) => v - sgd.read(name)[i]!);
        extra.forEach((d, i) => {
          const expected = 0.9 * (w1.get(name)![i]! - w0.get(name)![i]!);
          assert.ok(Math.abs(d - expected) < 1e-5 + 1e-3 * Math.abs(expected), `${name}[${i}]: ${d} vs ${expected}`);
        });
      }
      [sgd, heavy].forEach((n) => n.dispose());
    });

    it('keeps momentum per variable name while the trained set changes from step to step', () => {
      const n = net();
      const momentumNames = (): string[] =>
        JSON.parse(n.saveWeights().subarray(12, 12 + n.saveWeights().readUInt32LE(8)).toString())
          .tensors.map((t: { name: string }) => t.name)
          .filter((name: string) => name.startsWith('momentum/'))
          .map((name: string) => name.slice('momentum/'.length))
          .sort();
      n.trainStep(A, batch.images, batch.labels, 0.1);
      assert.deepEqual(momentumNames(), [...n.pathVariableNames(A)].sort());
      n.trainStep(B, batch.images, batch.labels, 0.1);
      n.trainStep(A, batch2.images, batch2.labels, 0.1);
      assert.deepEqual(momentumNames(), [...new Set([...n.pathVariableNames(A), ...n.pathVariableNames(B)])].sort());
      n.dispose();
    });

    it('is bit-for-bit deterministic: same seed and same (path, batch) sequence give identical losses and weights', () => {
      const runs = [net(), net()].map((n) => {
        const losses = [A, B, A, B].map((arch, i) => n.trainStep(arch, (i % 2 ? batch2 : batch).images, (i % 2 ? batch2 : batch).labels, 0.1));
        const weights = n.saveWeights();
        n.dispose();
        return { losses, weights };
      });
      runs[0]!.losses.forEach((l, i) => assert.ok(sameBits(l, runs[1]!.losses[i]!), `step ${i}: ${l} vs ${runs[1]!.losses[i]}`));
      assert.ok(runs[0]!.weights.equals(runs[1]!.weights));
    });

    it('leaks no tensors across training, evaluation, recalibration and checkpointing', () => {
      const n = net();
      const cycle = (): void => {
        n.trainStep(A, batch.images, batch.labels, 0.1);
        n.trainStep(B, batch2.images, batch2.labels, 0.1);
        n.evaluateBatch(A, batch.images, batch.labels);
        n.recalibrateBatchNorm(B, [batch, batch2]);
        n.loadWeights(n.saveWeights());
      };
      cycle();
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        cycle();
        assert.equal(tf.memory().numTensors, tensors, `after cycle ${i + 2}`);
      }
      n.dispose();
    });
  });

  describe('BatchNorm and evaluation', () => {
    it('moves running statistics towards the batch statistics while training (PyTorch momentum 0.1)', () => {
      const n = net();
      const before = stemStatistics(n, batch);
      n.trainStep(A, batch.images, batch.labels, 0.1);
      n.read('stem.bn.running_mean').forEach((v, c) => assert.ok(Math.abs(v - 0.1 * before.mean[c]!) < 1e-5, `mean[${c}]`));
      n.read('stem.bn.running_var').forEach((v, c) => assert.ok(Math.abs(v - (0.9 + 0.1 * before.variance[c]!)) < 1e-4, `var[${c}]`));
      n.dispose();
    });

    it('recalibration sets the path BNs to the plain average of the batch statistics (means, unbiased variances)', () => {
      const n = net();
      n.trainStep(B, batch.images, batch.labels, 0.1);
      const offPath = n.read('l0.op2.expand.bn.running_mean');
      n.recalibrateBatchNorm(A.map(() => 1), [batch, batch2]);
      const stats = [batch, batch2].map((b) => stemStatistics(n, b));
      const mean = n.read('stem.bn.running_mean');
      const variance = n.read('stem.bn.running_var');
      mean.forEach((v, c) => assert.ok(Math.abs(v - (stats[0]!.mean[c]! + stats[1]!.mean[c]!) / 2) < 1e-4, `mean[${c}]`));
      variance.forEach((v, c) => assert.ok(Math.abs(v - (stats[0]!.variance[c]! + stats[1]!.variance[c]!) / 2) < 1e-3 * Math.max(1, v), `var[${c}]`));
      assert.ok(sameArray(n.read('l0.op2.expand.bn.running_mean'), offPath), 'a BN off the path is untouched');
      n.dispose();
    });

    it('evaluates with running statistics: top-1 and top-5 counts, mean cross-entropy', () => {
      const n = net();
      for (let i = 0; i < 20; i++) n.trainStep(A, batch.images, batch.labels, 0.05);
      n.recalibrateBatchNorm(A, [batch]);
      const result = n.evaluateBatch(A, batch.images, batch.labels);
      assert.equal(result.count, 8);
      assert.ok(result.correct <= result.top5Correct && result.top5Correct <= 8);
      assert.ok(result.correct >= 6, `a path trained on this batch classifies it: ${result.correct}/8`);
      assert.ok(result.loss > 0 && result.loss < 1.5, `loss ${result.loss}`);
      const fresh = net();
      assert.ok(fresh.evaluateBatch(A, batch.images, batch.labels).loss > result.loss);
      [n, fresh].forEach((x) => x.dispose());
    });
  });

  describe('checkpoints', () => {
    it('round-trip byte for byte, including momentum and BN running statistics', () => {
      const n = net();
      n.trainStep(A, batch.images, batch.labels, 0.1);
      n.trainStep(B, batch2.images, batch2.labels, 0.1);
      const saved = n.saveWeights();
      const other = net({ seed: 99 });
      other.loadWeights(saved);
      assert.ok(other.saveWeights().equals(saved));
      [n, other].forEach((x) => x.dispose());
    });

    it('a supernet resumed from a checkpoint continues with exactly the losses of the uninterrupted one', () => {
      const steps: [Architecture, typeof batch][] = [[A, batch], [B, batch2], [A, batch2], [B, batch], [A, batch]];
      const original = net();
      steps.slice(0, 2).forEach(([arch, b]) => original.trainStep(arch, b.images, b.labels, 0.1));
      const checkpoint = original.saveWeights();
      const uninterrupted = steps.slice(2).map(([arch, b], i) => original.trainStep(arch, b.images, b.labels, cosineLr(i + 2, 5, 0.1, 0)));
      const resumed = net({ seed: 12345 });
      resumed.loadWeights(checkpoint);
      const afterResume = steps.slice(2).map(([arch, b], i) => resumed.trainStep(arch, b.images, b.labels, cosineLr(i + 2, 5, 0.1, 0)));
      afterResume.forEach((l, i) => assert.ok(sameBits(l, uninterrupted[i]!), `step ${i + 2}: ${l} vs ${uninterrupted[i]}`));
      assert.ok(resumed.saveWeights().equals(original.saveWeights()));
      [original, resumed].forEach((x) => x.dispose());
    });

    it('refuses weights of another space and stays usable', () => {
      const n = net();
      const wide = net({}, tinyMacroSpace(5));
      const before = n.saveWeights();
      assert.throws(() => n.loadWeights(wide.saveWeights()), /classifier\.w has shape/);
      assert.ok(n.saveWeights().equals(before));
      [n, wide].forEach((x) => x.dispose());
    });
  });

  it('cosineLr anneals from lrMax to lrMin over totalSteps', () => {
    assert.equal(cosineLr(0, 100, 0.1, 0), 0.1);
    assert.ok(Math.abs(cosineLr(50, 100, 0.1, 0.001) - 0.0505) < 1e-12);
    assert.equal(cosineLr(100, 100, 0.1, 1e-5), 1e-5);
    assert.equal(cosineLr(150, 100, 0.1, 1e-5), 1e-5);
  });
});
