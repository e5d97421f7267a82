/**
 * `npm run bench:checkpoint`: what a checkpoint costs next to a training step, and the disk the
 * presets need with and without retention.
 *
 * Part 1 (measured, same run): the demo supernet (NAS-Bench-Macro x0.25 on Fashion-MNIST, batch
 * 32, wasm) first trains one path per op so every momentum buffer exists (full-size
 * checkpoints); then, CHECKPOINTS times, one training step (the baseline) is timed next to each
 * part of a checkpoint: encoding the state, `put` on the local directory store (temp file,
 * write, fsync, rename, directory fsync) and its read-back verification, and the same on the
 * in-process object store. Every cost is given as a ratio to the training step measured
 * between them, and amortized over the default interval of 50 steps.
 *
 * Part 2 (computed): full checkpoint size per preset = 4 bytes x (2 x parameters + 2 x BN
 * channels) + header (weights, momentum, running mean and variance), from the supernet each
 * preset builds (checked against the measured demo size), times the number of checkpoints at
 * the default interval: every one kept (before retention) against keepLast 3 (the default).
 *   BENCH_CHECKPOINTS (default 10), BENCH_CHECKPOINT_EVERY (default 50)
 * Prints tables, writes bench/results/checkpoint.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDirectoryCheckpointStore } from '../src/adapters/filesystem/checkpoint-store.js';
import { MemoryObjectCheckpointStore } from '../src/adapters/memory/checkpoint-store.js';
import { checkpointKey, type CheckpointStore } from '../src/checkpoints/checkpoint-store.js';
import { DEFAULT_RETENTION } from '../src/checkpoints/retention.js';
import { toExperimentCreated } from '../src/experiments/experiment-request.js';
import { presetRequest } from '../src/experiments/presets.js';
import { presetSpace } from '../src/search-space/presets.js';
import { networkDefinition } from '../src/search-space/search-space.js';
import { SupernetModel } from '../src/training/supernet-model.js';
import { SupernetTrainer } from '../src/training/supernet-trainer.js';
import { tf } from '../src/training/tf.js';
import { percentile, printTable, writeJson } from './support.js';

const rounds = Number(process.env.BENCH_CHECKPOINTS ?? 10);
const every = Number(process.env.BENCH_CHECKPOINT_EVERY ?? 50);
const keepLast = DEFAULT_RETENTION.keepLast!;

// ---- part 1: measured cost ---------------------------------------------------------------
const experiment = toExperimentCreated({ ...presetRequest('demo'), dataset: { kind: 'fashion-mnist', perClass: 300 } });
const trainer = await SupernetTrainer.create(experiment, () => undefined);
const layers = experiment.searchSpace.layers.length;
const opsPerLayer = experiment.searchSpace.layers.map((l) => l.ops.length);
const path = (step: number) => Array.from({ length: layers }, (_, l) => (step * 7 + l * 3 + (step >> 2)) % opsPerLayer[l]!);
let step = 0;
for (let o = 0; o < Math.max(...opsPerLayer); o++) await trainer.trainStep(step++, opsPerLayer.map((n) => o % n));
for (let i = 0; i < 3; i++) await trainer.trainStep(step++, path(step)); // warm the kernels

const dir = mkdtempSync(join(tmpdir(), 'mctnas-bench-ckpt-'));
const stores: [string, CheckpointStore][] = [
  ['local directory', new LocalDirectoryCheckpointStore(dir)],
  ['object store (in-process)', new MemoryObjectCheckpointStore()],
];
const samples: Record<string, number[]> = { 'training step (baseline)': [], 'encode state': [] };
for (const [name] of stores) {
  samples[`${name}: put`] = [];
  samples[`${name}: read back + sha256`] = [];
}
const time = async <T>(label: string, work: () => Promise<T> | T): Promise<T> => {
  const start = performance.now();
  const result = await work();
  samples[label]!.push(performance.now() - start);
  return result;
};
let size = 0;
for (let r = 0; r < rounds; r++) {
  await time('training step (baseline)', () => trainer.trainStep(step++, path(step)));
  const bytes = await time('encode state', () => trainer.saveState());
  size = bytes.length;
  for (const [name, store] of stores) {
    const stored = await time(`${name}: put`, () => store.put(checkpointKey('bench', r), bytes));
    const check = await time(`${name}: read back + sha256`, () => store.readVerified(stored.location, stored.sha256));
    if (!('bytes' in check)) throw new Error(check.problem);
    await store.delete(stored.location);
  }
}
trainer.dispose();
rmSync(dir, { recursive: true, force: true });

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stepMs = mean(samples['training step (baseline)']!);
const costRows = Object.entries(samples).map(([part, xs]) => ({ part, meanMs: mean(xs), p50Ms: percentile(xs, 50), maxMs: Math.max(...xs), ratioToStep: mean(xs) / stepMs }));
for (const [name] of stores) {
  const total = mean(samples['encode state']!) + mean(samples[`${name}: put`]!) + mean(samples[`${name}: read back + sha256`]!);
  costRows.push({ part: `checkpoint total, ${name}`, meanMs: total, p50Ms: NaN, maxMs: NaN, ratioToStep: total / stepMs });
}
console.log(`\nCheckpoint cost vs one training step (demo supernet, batch 32, wasm; ${rounds} rounds, checkpoint ${(size / 2 ** 20).toFixed(2)} MiB)\n`);
printTable(
  costRows.map((r) => ({
    part: r.part,
    'mean ms': r.meanMs,
    'p50 ms': Number.isNaN(r.p50Ms) ? '' : r.p50Ms,
    'max ms': Number.isNaN(r.maxMs) ? '' : r.maxMs,
    'x step': r.ratioToStep,
    [`% of ${every} steps`]: r.part.startsWith('training') ? '' : (100 * r.ratioToStep) / every,
  })),
);

// ---- part 2: disk per preset ---------------------------------------------------------------
await tf.setBackend('cpu');
const fullSize = (model: SupernetModel) => {
  let channels = 0;
  for (const c of model.batchNorms.values()) channels += c;
  return 4 * (2 * model.parameterCount + 2 * channels);
};
const demoModel = new SupernetModel(networkDefinition(experiment.searchSpace), 0);
const demoPredicted = fullSize(demoModel);
const diskRows = [];
for (const [preset, space, steps, note] of [
  ['demo (npm start)', networkDefinition(experiment.searchSpace), 1500, 'measured size above'],
  ['nas-bench-macro-cifar10', presetSpace('nas-bench-macro').network, 176 * 50, '50 epochs x 176 steps'],
  ['imagenet', presetSpace('imagenet').network, 1201 * 120, '120 epochs x 1201 steps'],
] as const) {
  const bytes = preset.startsWith('demo') ? size : fullSize(new SupernetModel(space, 0)) + (size - demoPredicted);
  const count = Math.ceil(steps / every);
  diskRows.push({ preset, steps, checkpoints: count, checkpointMiB: bytes / 2 ** 20, keepAllGiB: (count * bytes) / 2 ** 30, [`keepLast${keepLast}GiB`]: (Math.min(count, keepLast) * bytes) / 2 ** 30, note });
}
console.log(`\nDisk for checkpoints at the default interval (every ${every} steps); demo size predicted ${(demoPredicted / 2 ** 20).toFixed(3)} MiB + header vs measured ${(size / 2 ** 20).toFixed(3)} MiB\n`);
printTable(diskRows.map((r) => ({ preset: r.preset, steps: r.steps, checkpoints: r.checkpoints, 'MiB each': r.checkpointMiB, 'keep all GiB': r.keepAllGiB, [`keepLast ${keepLast} GiB`]: r[`keepLast${keepLast}GiB`] as number, note: r.note })));
writeJson('bench/results/checkpoint.json', { date: new Date().toISOString(), rounds, checkpointEvery: every, checkpointBytes: size, demoPredictedBytes: demoPredicted, stepMs, cost: costRows, disk: diskRows });
