/**
 * `npm run bench:overhead`: what event recording adds to a training step, on PGlite and on
 * Postgres, each ratio measured in the same run:
 *  - the demo network: a TrainingWorker trains N steps through the whole loop (one commit per
 *    step: reward t + sample t+1, write-behind; checkpoints every 50 steps; lease heartbeats);
 *    then a fresh trainer re-trains exactly the same (step, path) sequence with no database;
 *  - a synthetic 1 s step (the GPU-sized case: the device computes, the CPU waits): the same
 *    comparison with a trainer whose step is a 1 s wait;
 *  - the per-step commit (the one append of [reward t, sample t+1]) as the worker issued it:
 *    p50 / p99 wall time of the append call.
 * Prints tables, writes bench/results/overhead.json.
 *   BENCH_OVERHEAD_STEPS (default 150), BENCH_OVERHEAD_SYNTHETIC_STEPS (default 20)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalDirectoryCheckpointStore } from '../src/adapters/filesystem/checkpoint-store.js';
import type { EventStore } from '../src/events/event-store.js';
import { presetRequest } from '../src/experiments/presets.js';
import { createRuntime } from '../src/runtime.js';
import type { Architecture } from '../src/search-space/definition.js';
import type { StepTrainer } from '../src/training/step-trainer.js';
import { SupernetTrainer } from '../src/training/supernet-trainer.js';
import { TrainingWorker } from '../src/training/training-worker.js';
import { requireTree } from '../src/tree/state.js';
import { testBackends } from '../test/support/databases.js';
import { ToyTrainer } from '../test/support/toy-trainer.js';
import { percentile, printTable, writeJson } from './support.js';

const steps = Number(process.env.BENCH_OVERHEAD_STEPS ?? 150);
const syntheticSteps = Number(process.env.BENCH_OVERHEAD_SYNTHETIC_STEPS ?? 20);
const request = { ...presetRequest('demo'), dataset: { kind: 'fashion-mnist', perClass: 1000 } };

/** A step that takes `ms` of waiting (a GPU computing while the CPU is free), on the toy trainer's weights. */
class WaitingTrainer extends ToyTrainer {
  constructor(
    opCounts: readonly number[],
    private readonly ms: number,
  ) {
    super(opCounts);
  }

  override async trainStep(step: number, architecture: Architecture): Promise<number> {
    await sleep(this.ms);
    return super.trainStep(step, architecture);
  }
}

interface Measured {
  readonly withEventsMs: number;
  readonly trainingOnlyMs: number;
  readonly commitsMs: number[];
}

/** Trains `n` live steps through the worker (events recorded), then the same (step, path) sequence on a fresh trainer without a database. */
async function measure(backend: (typeof testBackends)[number], n: number, trainer: () => Promise<StepTrainer>): Promise<Measured> {
  const db = await backend.open();
  try {
    const { service, store } = createRuntime(db);
    const { id } = await service.create(request);
    const commitsMs: number[] = [];
    const append = store.append.bind(store);
    (store as EventStore).append = async (...args: Parameters<EventStore['append']>) => {
      const start = performance.now();
      const result = await append(...args);
      if (args[2].some((e) => e.type === 'ArchitectureSampled' || e.type === 'RewardRecorded')) commitsMs.push(performance.now() - start);
      return result;
    };
    const recorded = await trainer();
    const checkpoints = new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-overhead-')));
    const worker = new TrainingWorker(service, recorded, { workerId: 'bench', checkpoints, checkpointEvery: 50, maxLiveSteps: n });
    let start = performance.now();
    await worker.train(id);
    const withEventsMs = (performance.now() - start) / n;
    recorded.dispose();

    const paths = (await store.readStream(id, { types: ['ArchitectureSampled'] })).map((e) => e.data as { step: number; architecture: number[] });
    const plain = await trainer();
    start = performance.now();
    for (const p of paths.slice(0, n)) await plain.trainStep(p.step, p.architecture);
    const trainingOnlyMs = (performance.now() - start) / n;
    plain.dispose();
    return { withEventsMs, trainingOnlyMs, commitsMs };
  } finally {
    await db.close();
  }
}

const experiment = await (async () => {
  const db = await testBackends[0]!.open();
  try {
    const { service } = createRuntime(db);
    const { id } = await service.create(request);
    return requireTree((await service.projections.current(id)).tree).config.experiment;
  } finally {
    await db.close();
  }
})();
const opCounts = experiment.searchSpace.layers.map((layer) => layer.ops.length);

const rows = [];
for (const backend of testBackends) {
  const demo = await measure(backend, steps, () => SupernetTrainer.create(experiment, () => undefined));
  const synthetic = await measure(backend, syntheticSteps, async () => new WaitingTrainer(opCounts, 1000));
  for (const [workload, n, m] of [
    ['demo network (wasm)', steps, demo],
    ['synthetic 1 s step', syntheticSteps, synthetic],
  ] as const) {
    rows.push({
      backend: backend.name,
      workload,
      steps: n,
      trainingOnlyMs: m.trainingOnlyMs,
      withEventsMs: m.withEventsMs,
      overheadMs: m.withEventsMs - m.trainingOnlyMs,
      overheadPercent: (100 * (m.withEventsMs - m.trainingOnlyMs)) / m.trainingOnlyMs,
      commits: m.commitsMs.length,
      commitP50Ms: percentile(m.commitsMs, 50),
      commitP99Ms: percentile(m.commitsMs, 99),
    });
  }
}
console.log(`\nEvent-recording overhead per training step (one commit per step, write-behind; ${steps} demo steps, ${syntheticSteps} synthetic)\n`);
printTable(
  rows.map((r) => ({
    backend: r.backend,
    workload: r.workload,
    steps: r.steps,
    'train only ms': r.trainingOnlyMs,
    'with events ms': r.withEventsMs,
    'overhead ms': r.overheadMs,
    'overhead %': r.overheadPercent,
    'commit p50 ms': r.commitP50Ms,
    'commit p99 ms': r.commitP99Ms,
  })),
);
writeJson('bench/results/overhead.json', { date: new Date().toISOString(), rows });
