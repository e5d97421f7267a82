/**
 * Stand-alone ground truth: a seeded random sample of architectures of an experiment's search
 * space, each trained from scratch on its own (a fresh network with only that path's weights),
 * all with the same data, schedule, augmentation and validation split, then evaluated on the
 * held-out validation split. The results form an accuracy table (CSV + spec JSON) against which
 * a supernet's ranking is measured (src/analysis/ranking.ts).
 *
 * Reproducible and resumable: three seeds are separate, so changing one never moves the others.
 *  - `sampleSeed`   which architectures are drawn (stream `standalone/sample`)
 *  - `trainingSeed` weight initialisation, data order and augmentation of every network
 *  - `splitSeed`    which training images are held out as validation (the experiment's split
 *                   rule, `splitTrainVal`), so a supernet trained with any seed can be evaluated
 *                   on exactly these images (training setting `validationSplitSeed`)
 * Every finished network is written to `<out>/runs/<key>.json` (atomically) with the settings
 * it was trained under; a second run skips networks whose file matches the settings.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { EventData } from '../events/catalog.js';
import { rngFor } from '../random/counter-rng.js';
import type { Architecture, SearchSpaceDefinition } from '../search-space/definition.js';
import { SearchSpace } from '../search-space/search-space.js';
import { selectBackend } from '../training/backend.js';
import { splitTrainVal } from '../training/data/dataset.js';
import { evaluationBatches, TrainingBatches } from '../training/data/loader.js';
import { cosineLr, Supernet } from '../training/supernet.js';
import { datasetSettingsSchema, openDataset, trainingSettingsSchema } from '../training/supernet-trainer.js';

export interface StandaloneSettings {
  /** the experiment whose space, dataset and training settings every network uses */
  readonly experiment: Pick<EventData<'ExperimentCreated'>, 'searchSpace' | 'dataset' | 'training'>;
  /** architectures drawn (distinct) */
  readonly count: number;
  /** SGD steps per network (cosine schedule over them) */
  readonly steps: number;
  readonly sampleSeed: number;
  readonly trainingSeed: number;
  readonly splitSeed: number;
}

export interface StandaloneRow {
  readonly key: string;
  readonly architecture: Architecture;
  /** validation top-1, percent */
  readonly top1: number;
  /** validation cross-entropy */
  readonly loss: number;
  /** mean training loss of the last 10% of steps */
  readonly finalTrainLoss: number;
  readonly flops: number;
  readonly params: number;
  readonly seconds: number;
}

const rowSchema = z.object({
  key: z.string(),
  architecture: z.array(z.number().int()),
  top1: z.number(),
  loss: z.number(),
  finalTrainLoss: z.number(),
  flops: z.number(),
  params: z.number(),
  seconds: z.number(),
});

/** `count` distinct architectures drawn uniformly (per layer) from the stream (seed, `standalone/sample`). */
export function sampleArchitectures(space: SearchSpaceDefinition, count: number, seed: number): Architecture[] {
  const ss = SearchSpace.fromDefinition(space);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (BigInt(count) > ss.sizeBigInt()) throw new RangeError(`count ${count} exceeds the ${ss.sizeBigInt()} architectures of the space`);
  const rng = rngFor(seed, 0, 'standalone/sample');
  const seen = new Set<string>();
  const out: Architecture[] = [];
  while (out.length < count) {
    const arch = ss.randomArchitecture(rng);
    const key = ss.encode(arch);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(arch);
  }
  return out;
}

/** What a stored network result must have been trained under to be reused. */
function settingsFingerprint(s: StandaloneSettings): string {
  return JSON.stringify({ experiment: s.experiment, steps: s.steps, trainingSeed: s.trainingSeed, splitSeed: s.splitSeed });
}

export interface StandaloneProgress {
  readonly index: number;
  readonly count: number;
  readonly key: string;
  readonly row: StandaloneRow;
  /** read from an earlier run's file instead of trained */
  readonly reused: boolean;
}

export interface StandaloneHooks {
  readonly onNetwork?: (p: StandaloneProgress) => void;
  readonly onStep?: (step: number, loss: number) => void;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

/**
 * Trains (or reuses) every sampled network and returns the rows in sample order; `outDir`
 * receives one JSON per network as soon as it is done.
 */
export function trainStandaloneSample(settings: StandaloneSettings, outDir: string, hooks: StandaloneHooks = {}): Promise<StandaloneRow[]> {
  return trainStandaloneNetworks(settings, sampleArchitectures(settings.experiment.searchSpace as SearchSpaceDefinition, settings.count, settings.sampleSeed), outDir, hooks);
}

/**
 * Trains (or reuses) the given architectures with the table's recipe (`settings`: experiment,
 * steps, training and split seeds; `count` and `sampleSeed` are not used), e.g. a search's
 * choices whose stand-alone accuracy a sample does not hold. Rows in the order given.
 */
export async function trainStandaloneNetworks(
  settings: StandaloneSettings,
  archs: readonly Architecture[],
  outDir: string,
  hooks: StandaloneHooks = {},
): Promise<StandaloneRow[]> {
  const training = trainingSettingsSchema.parse(settings.experiment.training);
  const space = settings.experiment.searchSpace as SearchSpaceDefinition;
  const ss = SearchSpace.fromDefinition(space);
  await selectBackend(training.backend ?? process.env['TF_BACKEND'], hooks.log);
  const dataset = openDataset(datasetSettingsSchema.parse(settings.experiment.dataset), space);
  const { train, val } = splitTrainVal(dataset, { perClass: training.validationPerClass, seed: settings.splitSeed });
  const validation = [...evaluationBatches(val, training.evaluationBatchSize)];
  const batches = new TrainingBatches(train, { seed: settings.trainingSeed, batchSize: training.batchSize, augmentation: training.augmentation ?? undefined });
  const fingerprint = settingsFingerprint(settings);
  const runs = join(outDir, 'runs');
  mkdirSync(runs, { recursive: true });
  const rows: StandaloneRow[] = [];
  for (const [index, arch] of archs.entries()) {
    if (hooks.signal?.aborted) break;
    const key = ss.encode(arch);
    const file = join(runs, `${key}.json`);
    const stored = readStored(file, fingerprint);
    if (stored) {
      rows.push(stored);
      hooks.onNetwork?.({ index, count: archs.length, key, row: stored, reused: true });
      continue;
    }
    const started = performance.now();
    const net = new Supernet(space, { seed: settings.trainingSeed, momentum: training.momentum, weightDecay: training.weightDecay, labelSmoothing: training.labelSmoothing });
    try {
      const tail = Math.max(1, Math.ceil(settings.steps / 10));
      let tailLoss = 0;
      for (let step = 0; step < settings.steps; step++) {
        const batch = batches.batchAtStep(step);
        const loss = net.trainStep(arch, batch.images, batch.labels, cosineLr(step, settings.steps, training.lrMax, training.lrMin));
        if (step >= settings.steps - tail) tailLoss += loss;
        hooks.onStep?.(step, loss);
      }
      let correct = 0;
      let lossSum = 0;
      let n = 0;
      for (const b of validation) {
        const r = net.evaluateBatch(arch, b.images, b.labels);
        correct += r.correct;
        lossSum += r.loss * r.count;
        n += r.count;
      }
      const row: StandaloneRow = {
        key,
        architecture: [...arch],
        top1: (100 * correct) / n,
        loss: lossSum / n,
        finalTrainLoss: tailLoss / tail,
        flops: ss.flops(arch),
        params: ss.params(arch),
        seconds: (performance.now() - started) / 1000,
      };
      const temp = `${file}.tmp-${process.pid}`;
      writeFileSync(temp, `${JSON.stringify({ settings: JSON.parse(fingerprint), row }, null, 1)}\n`);
      renameSync(temp, file);
      rows.push(row);
      hooks.onNetwork?.({ index, count: archs.length, key, row, reused: false });
    } finally {
      net.dispose();
    }
  }
  return rows;
}

function readStored(file: string, fingerprint: string): StandaloneRow | null {
  if (!existsSync(file)) return null;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { settings?: unknown; row?: unknown };
  if (JSON.stringify(parsed.settings) !== fingerprint) return null;
  return rowSchema.parse(parsed.row);
}

/** The rows as a CSV in the generic table format (src/tabular/table.ts): key, top1, flops, params, ... */
export function standaloneCsv(rows: readonly StandaloneRow[]): string {
  const header = 'arch,top1,loss,final_train_loss,flops,params,seconds';
  const lines = rows.map((r) => [r.key, r.top1.toFixed(2), r.loss.toFixed(5), r.finalTrainLoss.toFixed(5), r.flops, r.params, r.seconds.toFixed(1)].join(','));
  return `${[header, ...lines].join('\n')}\n`;
}

/** The table spec describing standaloneCsv's columns, with the space and how the table was made. */
export function standaloneSpec(name: string, settings: StandaloneSettings): Record<string, unknown> {
  return {
    name,
    searchSpace: settings.experiment.searchSpace,
    columns: { key: 'arch', accuracy: ['top1'], flops: 'flops', params: 'params' },
  };
}

/** `<out>/<name>.settings.json`: how the table is made (written before training starts). */
export function writeStandaloneSettings(outDir: string, name: string, settings: StandaloneSettings): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${name}.settings.json`);
  const { experiment, count, steps, sampleSeed, trainingSeed, splitSeed } = settings;
  writeFileSync(file, `${JSON.stringify({ count, steps, sampleSeed, trainingSeed, splitSeed, experiment }, null, 2)}\n`);
  return file;
}

/** Writes `<out>/<name>.csv` (the table) and `<out>/<name>.spec.json` (its spec). */
export function writeStandaloneTable(outDir: string, name: string, settings: StandaloneSettings, rows: readonly StandaloneRow[]): { csv: string; spec: string } {
  mkdirSync(outDir, { recursive: true });
  const csv = join(outDir, `${name}.csv`);
  const spec = join(outDir, `${name}.spec.json`);
  writeFileSync(csv, standaloneCsv(rows));
  writeFileSync(spec, `${JSON.stringify(standaloneSpec(name, settings), null, 2)}\n`);
  return { csv, spec };
}
