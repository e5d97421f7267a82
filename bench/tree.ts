/**
 * Tree benchmark (not a test: the runner only picks *.test.js). Prints a table; writes JSON
 * when given a path:
 *   npm run bench:tree   (node --max-old-space-size=8192 dist/bench/tree.js [out.json])
 *
 * - fold throughput over 1M-event histories produced by the real decision loop (sampling,
 *   reward, backup), in the NAS-Bench-Macro space and in the paper's ImageNet space;
 * - MCT path-sampling latency in the ImageNet space;
 * - snapshot size and (de)serialization time for 100k+ node trees.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Hyperparameters } from '../src/tree/hyperparameters.js';
import type { Schedule } from '../src/tree/schedule.js';
import { rngFor, uniformAt } from '../src/random/counter-rng.js';
import { imagenetMctNas, nasBenchMacro, presetSpace } from '../src/search-space/presets.js';
import type { Architecture, SearchSpaceDefinition } from '../src/search-space/definition.js';
import type { TreeEvent, TreeEventData } from '../src/tree/events.js';
import { evolve, fold, TreeProjector } from '../src/tree/evolve.js';
import { childrenOf, subtree, topLeaves } from '../src/tree/queries.js';
import { decideReward } from '../src/tree/reward.js';
import { phaseChangeAt, sampleArchitecture, sampleMctPath } from '../src/tree/sampling.js';
import { deserialize, serialize } from '../src/tree/snapshot.js';
import type { SpaceModel } from '../src/tree/space-model.js';
import { toPlain } from '../src/tree/state.js';

const AUTHORS: Hyperparameters = { beta: 0.96, gamma: 0.96, c1: 0.1, c2: 0.2, tau: 0.0025, nThreshold: 6, maxRedraws: 100 };

function created(def: SearchSpaceDefinition, schedule: Schedule, window: { min: number; max: number } | null): TreeEventData<'ExperimentCreated'> {
  return {
    name: 'bench',
    searchSpace: def as never,
    hyperparameters: AUTHORS,
    schedule,
    flopsWindow: window,
    flopsWindowPhases: ['tree-building', 'mct-sampling'],
    dataset: { kind: 'bench' },
    training: {},
    search: { strategy: 'hierarchical', candidates: 20, topK: 10, bnRecalibrationBatches: 0, scope: 'trained', updateDataFreq: 1000 },
    seed: 1,
  };
}

const PAGE = 10_000;

/**
 * Runs the real decision loop (sampling, reward, backup: ~3 events per step) and folds the
 * events, page by page (10k events, like pages of rows from the event store), into three
 * separate projectors; the fold is timed per projector and the fastest total reported. Pages
 * are dropped after use: keeping a million events alive (GBs for ImageNet, whose
 * ArchitectureSampled carries 21 x 13 probabilities) would measure V8's full-heap marking
 * instead of the fold.
 */
function history(
  space: SpaceModel,
  data: TreeEventData<'ExperimentCreated'>,
  keep = false,
): { events: number; seconds: number; foldMs: number; state: ReturnType<typeof fold>; kept: TreeEvent[] } {
  const t0 = performance.now();
  const p = new TreeProjector();
  const measured = [new TreeProjector(), new TreeProjector(), new TreeProjector()];
  const foldMs = [0, 0, 0];
  const kept: TreeEvent[] = [];
  let page: TreeEvent[] = [];
  let count = 0;
  const flush = () => {
    measured.forEach((m, i) => {
      const t1 = performance.now();
      for (const e of page) m.apply(e);
      foldMs[i]! += performance.now() - t1;
    });
    if (keep) kept.push(...page);
    page = [];
  };
  const push = (e: TreeEvent) => {
    page.push(e);
    count++;
    if (page.length === PAGE) flush();
    p.apply(e);
  };
  push({ type: 'ExperimentCreated', data });
  const s = data.schedule;
  const total = s.warmupSteps + s.treeBuildingSteps + s.mctSteps;
  const loss = (a: Architecture, step: number) => {
    let q = 0;
    for (let l = 0; l < a.length; l++) q += ((a[l]! * 7 + l) % 5) / 5;
    return 3 - q / a.length + 0.5 * uniformAt(9, step, 'bench:loss', 0);
  };
  for (let step = 0; step < total; step++) {
    const change = phaseChangeAt(p.view(), step);
    if (change) push({ type: 'PhaseChanged', data: change });
    const sample = sampleArchitecture(p.view(), space, step);
    push({ type: 'ArchitectureSampled', data: sample });
    for (const e of decideReward(p.view(), step, sample.architecture, loss(sample.architecture, step)).events) push(e);
  }
  flush();
  const state = measured[0]!.state;
  if (JSON.stringify(toPlain(state).g) !== JSON.stringify(toPlain(p.state).g) || state.tree!.size !== p.view().tree!.size) {
    throw new Error('the measured fold diverged from the generator');
  }
  return { events: count, seconds: (performance.now() - t0) / 1000, foldMs: Math.min(...foldMs), state, kept };
}

function best<T>(runs: number, f: () => T): { ms: number; value: T } {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, value };
}

const results: Record<string, unknown> = {};
const rows: [string, string][] = [];

function foldBench(name: string, def: SearchSpaceDefinition, schedule: Schedule, window: { min: number; max: number } | null, keep = false) {
  const space = presetSpace(def.name === 'nas-bench-macro' ? 'nas-bench-macro' : 'imagenet');
  const h = history(space, created(def, schedule, window), keep);
  const eventsPerSecond = h.events / (h.foldMs / 1000);
  const state = h.state;
  const snap = best(3, () => serialize(state));
  const back = best(3, () => deserialize(snap.value));
  results[name] = {
    events: h.events,
    nodes: state.tree!.size,
    generationSeconds: h.seconds,
    foldMs: h.foldMs,
    eventsPerSecond,
    snapshotBytes: snap.value.length,
    serializeMs: snap.ms,
    deserializeMs: back.ms,
  };
  rows.push([`${name}: events`, h.events.toLocaleString('en')]);
  rows.push([`${name}: tree nodes`, state.tree!.size.toLocaleString('en')]);
  rows.push([`${name}: fold (pages of 10k events)`, `${h.foldMs.toFixed(0)} ms = ${(eventsPerSecond / 1e6).toFixed(2)} M events/s`]);
  rows.push([`${name}: snapshot`, `${(snap.value.length / 1e6).toFixed(2)} MB, serialize ${snap.ms.toFixed(1)} ms, deserialize ${back.ms.toFixed(1)} ms`]);
  return { state, space, kept: h.kept };
}

// NAS-Bench-Macro: 400,000 steps -> 1M events (CIFAR proportions 25/5/20 epochs; warm-up
// steps append 2 events, the others 3).
let macro: { kept: TreeEvent[] } | null = foldBench('nas-bench-macro 1M', nasBenchMacro, { stepsPerEpoch: 8000, warmupSteps: 200_000, treeBuildingSteps: 40_000, mctSteps: 160_000 }, null, true);

// The same history fully parsed in memory and folded in one call.
{
  const events = macro!.kept;
  macro = null; // let the events go before the ImageNet runs
  const f = best(3, () => fold(events));
  results['nas-bench-macro 1M in memory'] = { foldMs: f.ms, eventsPerSecond: events.length / (f.ms / 1000) };
  rows.push(['nas-bench-macro 1M: fold(all parsed events)', `${f.ms.toFixed(0)} ms = ${(events.length / f.ms / 1000).toFixed(2)} M events/s`]);
}

// ImageNet space: 400,000 steps -> 1M events with the paper's proportions (60/25/35 of 120
// epochs), window [280M, 380M].
const imagenet = foldBench(
  'imagenet 1M',
  imagenetMctNas,
  { stepsPerEpoch: 3333, warmupSteps: 199_980, treeBuildingSteps: 83_325, mctSteps: 116_655 },
  { min: 280e6, max: 380e6 },
);

// The paper's actual ImageNet schedule: 1251 steps per epoch (batch 1024), 60 / 25 / 35 epochs.
foldBench(
  'imagenet paper schedule',
  imagenetMctNas,
  { stepsPerEpoch: 1251, warmupSteps: 60 * 1251, treeBuildingSteps: 25 * 1251, mctSteps: 35 * 1251 },
  { min: 280e6, max: 380e6 },
);

// MCT path sampling latency on the trained ImageNet tree (with the window, as in training).
{
  const tree = imagenet.state.tree!;
  const n = 2000;
  let redraws = 0;
  const t = best(3, () => {
    for (let i = 0; i < n; i++) redraws += sampleMctPath(tree, imagenet.space, rngFor(1, i, 'bench:mct'), AUTHORS, { min: 280e6, max: 380e6 }).redraws;
  });
  const noWindow = best(3, () => {
    for (let i = 0; i < n; i++) sampleMctPath(tree, imagenet.space, rngFor(1, i, 'bench:mct'), AUTHORS, null);
  });
  results['mct sampling (imagenet)'] = { microsecondsPerPath: (t.ms * 1000) / n, microsecondsPerPathNoWindow: (noWindow.ms * 1000) / n, meanRedraws: redraws / (3 * n) };
  rows.push(['imagenet: MCT path sample', `${((t.ms * 1000) / n).toFixed(1)} us/path with window (mean redraws ${(redraws / (3 * n)).toFixed(2)}), ${((noWindow.ms * 1000) / n).toFixed(1)} us without`]);

  // Read models on the big tree.
  const st = imagenet.state;
  const q1 = best(5, () => childrenOf(st, []));
  const q2 = best(5, () => subtree(st, [], { maxDepth: 3 }));
  const q3 = best(5, () => topLeaves(st, 10));
  const ev = best(5, () => evolve(st, { type: 'VisitCountsUpdated', data: { step: 0, source: 'training', nodes: [{ path: [], n: 1, s: 1 }], g: [] } }));
  results['queries (imagenet tree)'] = { childrenMs: q1.ms, subtreeDepth3Ms: q2.ms, topLeavesMs: q3.ms, pureEvolveWithCopyMs: ev.ms };
  rows.push(['imagenet: children / subtree(3) / top-10 leaves', `${q1.ms.toFixed(2)} / ${q2.ms.toFixed(2)} / ${q3.ms.toFixed(2)} ms`]);
  rows.push(['imagenet: pure evolve of one tree event (copies store)', `${ev.ms.toFixed(2)} ms`]);
}

// Snapshot of a tree with exactly ~100k nodes (ImageNet, uniform tree building only).
{
  const space = presetSpace('imagenet');
  const { state } = history(space, created(imagenetMctNas, { stepsPerEpoch: 1000, warmupSteps: 0, treeBuildingSteps: 5000, mctSteps: 0 }, null));
  const snap = best(5, () => serialize(state));
  const back = best(5, () => deserialize(snap.value));
  results['snapshot 100k nodes'] = { nodes: state.tree!.size, bytes: snap.value.length, serializeMs: snap.ms, deserializeMs: back.ms };
  rows.push([`snapshot ${state.tree!.size.toLocaleString('en')} nodes`, `${(snap.value.length / 1e6).toFixed(2)} MB (${(snap.value.length / state.tree!.size).toFixed(1)} B/node), serialize ${snap.ms.toFixed(1)} ms, deserialize ${back.ms.toFixed(1)} ms`]);
}

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`tree benchmark (node ${process.version})`);
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
const out = process.argv[2];
if (out) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ node: process.version, date: new Date().toISOString(), results }, null, 2));
  console.log(`wrote ${out}`);
}
