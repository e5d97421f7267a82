/**
 * `npm run bench:overhead`: what event recording adds to a training step, on PGlite and on
 * Postgres, each ratio measured in the same run:
 *  - the demo network: a TrainingWorker trains N steps through the whole loop (one commit per
 *    step: reward t + sample t+1, write-behind; checkpoints every 50 steps; lease heartbeats),
 *    with the supernet on its own thread (the default) and on the service thread
 *    (MCTNAS_TRAINING_THREAD=main); the baseline, a fresh trainer on the same kind of thread
 *    (a training thread, or this one) re-training exactly the same (step, path) sequence with
 *    no database, runs before and after them (the ratio is to their mean). Every trainer is warmed up first (3 steps, then its initial state
 *    restored: same results), so the thread's one-time wasm start-up (seconds) is in none of
 *    them;
 *    on the training thread, also its event-loop utilization over the recorded run: time
 *    computing vs time waiting for the service thread (commit, decision, checkpoint), a ratio
 *    taken over the same steps at the same time, which a drifting load cannot skew;
 *  - a synthetic 1 s step (the GPU-sized case: the device computes, the CPU waits): the same
 *    comparison with a trainer whose step is a 1 s wait;
 *  - the per-step commit (the one append of [reward t, sample t+1]) as the worker issued it:
 *    p50 / p99 wall time of the append call.
 * Prints tables, writes bench/results/overhead.json.
 *   BENCH_OVERHEAD_STEPS (default 150), BENCH_OVERHEAD_SYNTHETIC_STEPS (default 20)
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalDirectoryCheckpointStore } from '../src/adapters/filesystem/checkpoint-store.js';
import type { EventStore } from '../src/events/event-store.js';
import { presetRequest } from '../src/experiments/presets.js';
import { createRuntime } from '../src/runtime.js';
import type { Architecture } from '../src/search-space/definition.js';
import { createSupernetTrainer, OffThreadTrainer, type TrainingThread } from '../src/training/off-thread-trainer.js';
import type { StepTrainer } from '../src/training/step-trainer.js';
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

/** A trainer past its thread's one-time start-up (wasm compilation and tier-up, memory growth), in its initial state. */
async function warm(trainer: StepTrainer): Promise<StepTrainer> {
  const initial = await trainer.saveState();
  for (let step = 0; step < 3; step++) await trainer.trainStep(step, opCounts.map((ops) => step % ops));
  await trainer.loadState(initial);
  return trainer;
}

interface Recorded {
  readonly withEventsMs: number;
  /** off-thread only: the training thread's time per step computing and waiting for the service thread (measured together, so load drift cannot skew their ratio) */
  readonly trainingThread: { readonly busyMs: number; readonly waitingMs: number } | null;
  readonly commitsMs: number[];
  readonly paths: { step: number; architecture: number[] }[];
}

/** Trains `n` live steps through the worker (events recorded); returns the time per step and the (step, path) sequence. */
async function recordedRun(backend: (typeof testBackends)[number], n: number, trainer: () => Promise<StepTrainer>): Promise<Recorded> {
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
    const recorded = await warm(await trainer());
    const checkpoints = new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-overhead-')));
    const worker = new TrainingWorker(service, recorded, { workerId: 'bench', checkpoints, checkpointEvery: 50, maxLiveSteps: n });
    const since = recorded instanceof OffThreadTrainer ? recorded.utilization() : null;
    const start = performance.now();
    await worker.train(id);
    const withEventsMs = (performance.now() - start) / n;
    const used = since && (recorded as OffThreadTrainer).utilization(since);
    const trainingThread = used && { busyMs: used.active / n, waitingMs: used.idle / n };
    await recorded.dispose();
    const paths = (await store.readStream(id, { types: ['ArchitectureSampled'] })).map((e) => e.data as { step: number; architecture: number[] }).slice(0, n);
    return { withEventsMs, trainingThread, commitsMs, paths };
  } finally {
    await db.close();
  }
}

/** The same (step, path) sequence on a fresh trainer, no database: ms per step. */
async function trainingOnly(paths: Recorded['paths'], trainer: () => Promise<StepTrainer>): Promise<number> {
  const plain = await warm(await trainer());
  const start = performance.now();
  for (const p of paths) await plain.trainStep(p.step, p.architecture);
  const ms = (performance.now() - start) / paths.length;
  await plain.dispose();
  return ms;
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

const supernet = (thread: TrainingThread) => () => createSupernetTrainer(experiment, () => undefined, thread);
const row = (backend: string, workload: string, n: number, trainingOnlyMs: number, m: Recorded, baselines: number[]) => ({
  backend,
  workload,
  steps: n,
  trainingOnlyMs,
  baselinesMs: baselines,
  withEventsMs: m.withEventsMs,
  overheadMs: m.withEventsMs - trainingOnlyMs,
  overheadPercent: (100 * (m.withEventsMs - trainingOnlyMs)) / trainingOnlyMs,
  trainingThreadBusyMs: m.trainingThread?.busyMs ?? null,
  trainingThreadWaitingMs: m.trainingThread?.waitingMs ?? null,
  trainingThreadWaitingPercent: m.trainingThread ? (100 * m.trainingThread.waitingMs) / m.trainingThread.busyMs : null,
  commits: m.commitsMs.length,
  commitP50Ms: percentile(m.commitsMs, 50),
  commitP99Ms: percentile(m.commitsMs, 99),
});
const rows = [];
for (const backend of testBackends) {
  // Each recorded run against the same steps trained with no database on the same kind of
  // thread; baselines before and after the recorded runs, so a load that drifts moves both sides.
  const offThread = await recordedRun(backend, steps, supernet('worker'));
  const baseline = async (thread: TrainingThread) => trainingOnly(offThread.paths, supernet(thread));
  const before = { worker: await baseline('worker'), main: await baseline('main') };
  const inThread = await recordedRun(backend, steps, supernet('main'));
  const after = { main: await baseline('main'), worker: await baseline('worker') };
  const mean = (thread: TrainingThread) => (before[thread] + after[thread]) / 2;
  rows.push(row(backend.name, 'demo network (wasm), training thread', steps, mean('worker'), offThread, [before.worker, after.worker]));
  rows.push(row(backend.name, 'demo network (wasm), service thread', steps, mean('main'), inThread, [before.main, after.main]));
  const synthetic = await recordedRun(backend, syntheticSteps, async () => new WaitingTrainer(opCounts, 1000));
  const syntheticBaseline = await trainingOnly(synthetic.paths, async () => new WaitingTrainer(opCounts, 1000));
  rows.push(row(backend.name, 'synthetic 1 s step', syntheticSteps, syntheticBaseline, synthetic, [syntheticBaseline]));
}
console.log(`\nEvent-recording overhead per training step (one commit per step, write-behind; ${steps} demo steps, ${syntheticSteps} synthetic; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")})\n`);
printTable(
  rows.map((r) => ({
    backend: r.backend,
    workload: r.workload,
    steps: r.steps,
    'train only ms': r.trainingOnlyMs,
    'with events ms': r.withEventsMs,
    'overhead ms': r.overheadMs,
    'overhead %': r.overheadPercent,
    'training thread busy / waiting ms': r.trainingThreadBusyMs === null ? '' : `${r.trainingThreadBusyMs.toFixed(1)} / ${r.trainingThreadWaitingMs!.toFixed(1)} (${r.trainingThreadWaitingPercent!.toFixed(2)}%)`,
    'commit p50 ms': r.commitP50Ms,
    'commit p99 ms': r.commitP99Ms,
  })),
);
writeJson('bench/results/overhead.json', { date: new Date().toISOString(), loadAverage: loadavg(), rows });
