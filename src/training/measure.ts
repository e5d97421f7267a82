/**
 * Timings of the supernet on the active backend, and (with --accuracy) a plain demo-sized run.
 *
 *   node dist/src/training/measure.js                  timings: full-width NAS-Bench-Macro on
 *                                                      32x32x3 and the reduced demo network
 *   node dist/src/training/measure.js --accuracy       + uniform single-path training on
 *        [--steps=600] [--batch=64] [--width=0.25]     Fashion-MNIST, then a few random paths
 *        [--lr=0.1] [--padding=2] [--paths=5]          evaluated on the validation split after
 *        [--seed=1]                                    BN recalibration
 *        [--skip-timings]
 * TF_BACKEND picks the backend as everywhere else.
 */
import { rngFor } from '../random/counter-rng.js';
import { nasBenchMacro, scaledSpace } from '../search-space/presets.js';
import { SearchSpace } from '../search-space/search-space.js';
import type { Architecture, SearchSpaceDefinition } from '../search-space/definition.js';
import { selectBackend } from './backend.js';
import { splitTrainVal } from './data/dataset.js';
import { fashionMnistDataset } from './data/fashion-mnist.js';
import { evaluationBatches, TrainingBatches } from './data/loader.js';
import { cosineLr, Supernet } from './supernet.js';
import { tf } from './tf.js';

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
}

function randomPaths(space: SearchSpaceDefinition, seed: number, purpose: string, count: number): Architecture[] {
  const ss = SearchSpace.fromDefinition(space);
  const rng = rngFor(seed, 0, purpose);
  return Array.from({ length: count }, () => ss.randomArchitecture(rng));
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

/** Mean seconds per training step over `paths` (after one untimed warm-up step). */
function timeTraining(space: SearchSpaceDefinition, batchSize: number, paths: Architecture[]): number {
  const net = new Supernet(space, { seed: 1, weightDecay: 5e-4 });
  const { size, channels } = space.input;
  const images = new Float32Array(batchSize * size * size * channels).map((_, i) => Math.sin(i * 0.37));
  const labels = Int32Array.from({ length: batchSize }, (_, i) => i % space.head.classes);
  net.trainStep(paths[0]!, images, labels, 0.1);
  const start = performance.now();
  for (const arch of paths) net.trainStep(arch, images, labels, 0.1);
  const perStep = seconds(start) / paths.length;
  net.dispose();
  return perStep;
}

function timeEvaluation(space: SearchSpaceDefinition, batchSize: number, paths: Architecture[]): number {
  const net = new Supernet(space, { seed: 1 });
  const { size, channels } = space.input;
  const images = new Float32Array(batchSize * size * size * channels).map((_, i) => Math.sin(i * 0.37));
  const labels = Int32Array.from({ length: batchSize }, (_, i) => i % space.head.classes);
  net.evaluateBatch(paths[0]!, images, labels);
  const start = performance.now();
  for (const arch of paths) net.evaluateBatch(arch, images, labels);
  const perBatch = seconds(start) / paths.length;
  net.dispose();
  return perBatch;
}

function demoSpace(width: number): SearchSpaceDefinition {
  return scaledSpace(nasBenchMacro, { widthMultiplier: width, inputSize: 28, inputChannels: 1 });
}

function timings(): void {
  const full = nasBenchMacro;
  const demo = demoSpace(option('width', 0.25));
  const fullPaths = randomPaths(full, 1, 'measure/full', 3);
  const demoPaths = randomPaths(demo, 1, 'measure/demo', 10);
  console.log(`full width ${full.name}, 32x32x3, batch 64: ${timeTraining(full, 64, fullPaths).toFixed(2)} s/step (mean of ${fullPaths.length} random paths)`);
  for (const [label, arch] of [['all k5 e6', full.layers.map(() => 2)], ['all identity', full.layers.map(() => 0)]] as const) {
    console.log(`  ${label}: ${timeTraining(full, 64, [arch]).toFixed(2)} s/step`);
  }
  for (const batch of [32, 64]) {
    console.log(`demo ${demo.name}, batch ${batch}: ${timeTraining(demo, batch, demoPaths).toFixed(3)} s/step (mean of ${demoPaths.length} random paths)`);
  }
  console.log(`demo inference, batch 250: ${timeEvaluation(demo, 250, demoPaths).toFixed(3)} s/batch`);
}

/** Uniform single-path training, then random paths evaluated with BN recalibration. */
function accuracyRun(): void {
  const steps = option('steps', 600);
  const batchSize = option('batch', 64);
  const seed = option('seed', 1);
  const space = demoSpace(option('width', 0.25));
  let t = performance.now();
  const { train, val } = splitTrainVal(fashionMnistDataset(), { perClass: 200, seed: 0 });
  console.log(`Fashion-MNIST: ${train.size} train / ${val.size} validation images, loaded in ${seconds(t).toFixed(1)} s`);
  const lr = option('lr', 0.1);
  // Flips stay off for Fashion-MNIST; crops are optional (--padding=0 turns them off).
  const batches = new TrainingBatches(train, { seed, batchSize, augmentation: { padding: option('padding', 2), flip: false } });
  const net = new Supernet(space, { seed, weightDecay: 5e-4 });
  const ss = SearchSpace.fromDefinition(space);
  t = performance.now();
  let recent = 0;
  for (let step = 0; step < steps; step++) {
    const arch = ss.randomArchitecture(rngFor(seed, step, 'uniform-path'));
    const batch = batches.batchAtStep(step);
    const loss = net.trainStep(arch, batch.images, batch.labels, cosineLr(step, steps, lr, 0));
    recent = step === 0 ? loss : 0.96 * recent + 0.04 * loss;
    if ((step + 1) % 100 === 0 || step + 1 === steps) {
      console.log(`step ${step + 1}/${steps}: moving-average loss ${recent.toFixed(3)}, ${(seconds(t) / (step + 1)).toFixed(3)} s/step`);
    }
  }
  const trainSeconds = seconds(t);
  const paths = randomPaths(space, seed, 'measure/eval', option('paths', 5));
  for (const arch of paths) {
    t = performance.now();
    net.recalibrateBatchNorm(arch, Array.from({ length: 20 }, (_, i) => batches.batchAtStep(steps + i)));
    let correct = 0;
    for (const b of evaluationBatches(val, 250)) correct += net.evaluateBatch(arch, b.images, b.labels).correct;
    console.log(`path ${arch.join('')}: validation top-1 ${((100 * correct) / val.size).toFixed(1)}% (recalibrate + evaluate ${seconds(t).toFixed(1)} s)`);
  }
  console.log(`training: ${steps} steps x ${batchSize}, lr ${lr} cosine, in ${trainSeconds.toFixed(0)} s; tensors alive: ${tf.memory().numTensors}`);
  net.dispose();
}

const selection = await selectBackend();
console.log(`backend: ${selection.backend}`);
if (!process.argv.includes('--skip-timings')) timings();
if (process.argv.includes('--accuracy')) accuracyRun();
