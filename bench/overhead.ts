/**
 * `npm run bench:overhead`: what event recording adds to a training step. A TrainingWorker
 * trains N steps of the demo network through the full event-sourced loop (ask → subscription →
 * train → tell, checkpoints every 50 steps, lease heartbeats) on PGlite and on Postgres; then a
 * fresh trainer re-trains exactly the same (step, path) sequence with no database at all. The
 * difference per step is the recording overhead. Prints a table, writes bench/results/overhead.json.
 *   BENCH_OVERHEAD_STEPS (default 200)
 */
import { LocalDirectoryCheckpointStore } from '../src/adapters/filesystem/checkpoint-store.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore } from '../src/events/event-store.js';
import { ExperimentProjections } from '../src/experiments/experiment-projections.js';
import { ExperimentService } from '../src/experiments/experiment-service.js';
import { presetRequest } from '../src/experiments/presets.js';
import { SupernetTrainer } from '../src/training/supernet-trainer.js';
import { TrainingWorker } from '../src/training/training-worker.js';
import { requireTree } from '../src/tree/state.js';
import { testBackends } from '../test/support/databases.js';
import { printTable, writeJson } from './support.js';

const steps = Number(process.env.BENCH_OVERHEAD_STEPS ?? 200);
const request = { ...presetRequest('demo'), dataset: { kind: 'fashion-mnist', perClass: 1000 } };
const rows = [];
for (const backend of testBackends) {
  const db = await backend.open();
  const store = new EventStore(db);
  const service = new ExperimentService(store, new ExperimentProjections(store));
  const { id } = await service.create(request);
  const experiment = requireTree((await service.projections.current(id)).tree).config.experiment;

  const recorded = await SupernetTrainer.create(experiment, () => undefined);
  const worker = new TrainingWorker(service, recorded, { workerId: 'bench', checkpoints: new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-overhead-'))), checkpointEvery: 50, maxLiveSteps: steps });
  let start = performance.now();
  await worker.train(id);
  const withEvents = (performance.now() - start) / steps;
  recorded.dispose();

  const paths = (await store.readStream(id, { types: ['ArchitectureSampled'] })).map((e) => e.data as { step: number; architecture: number[] });
  const plain = await SupernetTrainer.create(experiment, () => undefined);
  start = performance.now();
  for (const p of paths.slice(0, steps)) await plain.trainStep(p.step, p.architecture);
  const trainingOnly = (performance.now() - start) / steps;
  plain.dispose();
  await db.close();
  rows.push({ backend: backend.name, steps, trainingOnlyMs: trainingOnly, withEventsMs: withEvents, overheadMs: withEvents - trainingOnly, overheadPercent: (100 * (withEvents - trainingOnly)) / trainingOnly });
}
console.log(`\nEvent-recording overhead per training step (demo network, batch 32, wasm; ${steps} steps)\n`);
printTable(rows.map((r) => ({ backend: r.backend, steps: r.steps, 'train only ms': r.trainingOnlyMs, 'with events ms': r.withEventsMs, 'overhead ms': r.overheadMs, 'overhead %': r.overheadPercent })));
writeJson('bench/results/overhead.json', { date: new Date().toISOString(), rows });
