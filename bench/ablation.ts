/**
 * `npm run bench:ablation`: the paper's ablation on our own supernet (issue 15).
 *
 * Three supernets per seed with the same step budget (src/ablation/policies.ts: uniform only,
 * MCT only, uniform warm-up + MCT), each an ordinary experiment trained by the real worker on
 * the embedded database under `.ablation/` (resumable: run it again after an interruption),
 * then every architecture of the stand-alone table (bench/data/standalone-demo.csv, made by
 * `mctnas standalone`, see bench/data/README.md) evaluated on it with BN recalibration on the
 * table's validation split. Prints the ranking table (Kendall tau, Spearman rho, top-k overlap
 * against stand-alone; mean +- std over seeds) and the search-number curve of the default
 * schedule, and writes bench/results/ablation.json.
 *
 *   node dist/bench/ablation.js [--seeds 3] [--steps 300] [--analyse-only]
 *                               [--only <policy>] [--db <name>]   (a second process on its own database)
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { parse } from 'csv-parse/sync';
import { ablationPolicies, ablationRequest, type AblationPolicy, policySchedule } from '../src/ablation/policies.js';
import { LocalDirectoryCheckpointStore } from '../src/adapters/filesystem/checkpoint-store.js';
import { supernetAccuracies } from '../src/ablation/supernet-accuracies.js';
import { sampleArchitectures } from '../src/standalone/standalone.js';
import { meanAndStd, rankingReport, type RankingReport, searchNumberCurve } from '../src/analysis/ranking.js';
import { openDatabase } from '../src/database/open-database.js';
import { presetRequest } from '../src/experiments/presets.js';
import { createRuntime } from '../src/runtime.js';
import { SearchSpace } from '../src/search-space/search-space.js';
import type { SearchSpaceDefinition } from '../src/search-space/definition.js';
import { printTable, writeJson } from './support.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

function textOption(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const SEEDS = option('seeds', 3);
/** first seed trained (another process may train the others) */
const FIRST_SEED = option('from-seed', 0);
const STEPS = option('steps', 300);
const BN_RECALIBRATION_BATCHES = option('bn-batches', 10);
const TOP_K = [3, 5, 10];
const SEARCH_NUMBERS = [1, 5, 10, 20, 50];
/** the paper's Table (ablation on NAS-Bench-Macro / CIFAR-10): Kendall tau vs stand-alone */
const PAPER_TAU: Record<AblationPolicy, number | null> = { uniform: 0.7241, mct: null, 'uniform+mct': 0.7622 };

const TABLE = resolve('bench/data/standalone-demo.csv');
const TABLE_SETTINGS = resolve('bench/data/standalone-demo.settings.json');
const WORK = resolve('.ablation');
const ONLY = textOption('only');
const DATABASE_DIR = join(WORK, textOption('db') ?? 'db');
const RESULTS = resolve('bench/results/ablation.json');

interface TableSettings {
  readonly count: number;
  readonly steps: number;
  readonly sampleSeed: number;
  readonly trainingSeed: number;
  readonly splitSeed: number;
  readonly experiment: { readonly searchSpace: SearchSpaceDefinition; readonly training: { readonly validationPerClass: number } };
}

interface SupernetResult {
  readonly policy: AblationPolicy;
  readonly seed: number;
  readonly steps: number;
  readonly experimentId: string;
  readonly keys: string[];
  readonly top1: number[];
  readonly trainingSeconds: number;
  readonly evaluationSeconds: number;
}

function readSettings(): TableSettings {
  return JSON.parse(readFileSync(TABLE_SETTINGS, 'utf8')) as TableSettings;
}

/** The table's architectures, drawn again from its recorded sample seed (available before the table is finished). */
function sampledKeys(settings: TableSettings): string[] {
  const space = SearchSpace.fromDefinition(settings.experiment.searchSpace);
  return sampleArchitectures(settings.experiment.searchSpace, settings.count, settings.sampleSeed).map((a) => space.encode(a));
}

function readTable(settings: TableSettings): { keys: string[]; top1: number[]; settings: TableSettings } {
  const rows = parse(readFileSync(TABLE, 'utf8'), { columns: true, skip_empty_lines: true }) as { arch: string; top1: string }[];
  return { keys: rows.map((r) => r.arch), top1: rows.map((r) => Number(r.top1)), settings };
}

function resultFile(policy: AblationPolicy, seed: number): string {
  return join(WORK, 'supernets', `${policy.replace('+', '-')}-s${seed}-${STEPS}.json`);
}

async function trainSupernets(keys: readonly string[], settings: TableSettings): Promise<void> {
  const space = SearchSpace.fromDefinition(settings.experiment.searchSpace);
  const archs = keys.map((k) => space.decode(k));
  const { database } = await openDatabase({ databaseUrl: null, dataDir: DATABASE_DIR });
  const { service } = createRuntime(database);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const bar = new cliProgress.SingleBar(
    { format: '{run} |{bar}| {value}/{total} {what} | ETA {eta_formatted}', barsize: 30, noTTYOutput: true, notTTYSchedule: 15_000, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  try {
    for (let seed = FIRST_SEED; seed < SEEDS; seed++) {
      for (const policy of ablationPolicies) {
        const file = resultFile(policy, seed);
        if (existsSync(file) || (ONLY !== undefined && policy !== ONLY)) continue;
        const run = `${policy} seed ${seed}`.padEnd(20);
        const request = ablationRequest(presetRequest('demo'), {
          policy,
          steps: STEPS,
          seed,
          validationSplitSeed: settings.splitSeed,
          validationPerClass: settings.experiment.training.validationPerClass,
          bnRecalibrationBatches: BN_RECALIBRATION_BATCHES,
        });
        let phase: 'train' | 'eval' | null = null;
        const result = await supernetAccuracies(service, request, archs, {
          experimentId: `ablation-${policy.replace('+', '-')}-s${seed}-${STEPS}`,
          workerId: `${hostname()}:${WORK}`,
          checkpoints: new LocalDirectoryCheckpointStore(join(WORK, 'checkpoints')),
          signal: controller.signal,
          onProgress: (p) => {
            if (phase !== 'train') {
              phase = 'train';
              bar.start(p.totalSteps, p.step + 1, { run, what: 'steps' });
            } else bar.update(p.step + 1, { run, what: 'steps' });
          },
          onEvaluated: (done, total) => {
            if (phase !== 'eval') {
              bar.stop();
              phase = 'eval';
              bar.start(total, done, { run, what: 'architectures evaluated' });
            } else bar.update(done, { run, what: 'architectures evaluated' });
          },
        });
        bar.stop();
        if (result === null) return;
        const out: SupernetResult = { policy, seed, steps: STEPS, experimentId: result.experimentId, keys: [...keys], top1: result.top1, trainingSeconds: result.trainingSeconds, evaluationSeconds: result.evaluationSeconds };
        mkdirSync(join(WORK, 'supernets'), { recursive: true });
        writeFileSync(`${file}.tmp`, `${JSON.stringify(out, null, 1)}\n`);
        renameSync(`${file}.tmp`, file);
        console.log(`${policy} seed ${seed}: trained in ${result.trainingSeconds.toFixed(0)} s, ${archs.length} architectures evaluated in ${result.evaluationSeconds.toFixed(0)} s`);
      }
    }
  } finally {
    bar.stop();
    await database.close();
  }
}

function fmt(m: { mean: number; std: number; n: number }, digits = 3): string {
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)} (${m.n})`;
}

function analyse(table: { keys: string[]; top1: number[]; settings: TableSettings }): void {
  const results: SupernetResult[] = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    for (const policy of ablationPolicies) {
      const file = resultFile(policy, seed);
      if (existsSync(file)) results.push(JSON.parse(readFileSync(file, 'utf8')) as SupernetResult);
    }
  }
  const truthOf = new Map(table.keys.map((k, i) => [k, table.top1[i]!]));
  const runs = results.map((r) => {
    const keys = r.keys.filter((k) => truthOf.has(k));
    const truth = keys.map((k) => truthOf.get(k)!);
    const estimate = keys.map((k) => r.top1[r.keys.indexOf(k)]!);
    const ks = SEARCH_NUMBERS.filter((k) => k <= keys.length);
    return { ...r, report: rankingReport(truth, estimate, TOP_K), curve: searchNumberCurve(truth, estimate, ks) };
  });
  const summary = ablationPolicies.map((policy) => {
    const mine = runs.filter((r) => r.policy === policy);
    const pick = (f: (r: RankingReport) => number) => meanAndStd(mine.map((r) => f(r.report)));
    return {
      policy,
      seeds: mine.map((r) => r.seed),
      schedule: policySchedule(policy, STEPS, 100),
      kendallTau: pick((r) => r.kendallTau),
      kendallTauStandardErrorPerRun: pick((r) => r.kendallTauStandardError),
      spearmanRho: pick((r) => r.spearmanRho),
      topKOverlap: TOP_K.map((k) => ({ k, ...meanAndStd(mine.map((r) => r.report.topKOverlap.find((t) => t.k === k)?.overlap ?? NaN)) })),
      supernetTop1: meanAndStd(mine.map((r) => meanAndStd(r.top1).mean)),
      paperKendallTau: PAPER_TAU[policy],
    };
  });
  const n = table.keys.length;
  console.log(`\nRanking against stand-alone training: ${n} architectures (bench/data/standalone-demo.csv), ${STEPS} supernet steps, mean ± std over seeds (count)`);
  printTable(
    summary.map((s) => ({
      policy: s.policy,
      'Kendall tau': fmt(s.kendallTau),
      'SE per run (jackknife)': s.kendallTauStandardErrorPerRun.mean.toFixed(3),
      'paper tau': s.paperKendallTau === null ? '-' : s.paperKendallTau.toFixed(4),
      'Spearman rho': fmt(s.spearmanRho),
      ...Object.fromEntries(s.topKOverlap.map((t) => [`top-${t.k}`, t.mean.toFixed(2)])),
      'mean supernet top-1': s.supernetTop1.mean.toFixed(2),
    })),
  );
  const defaults = runs.filter((r) => r.policy === 'uniform+mct');
  const ks = SEARCH_NUMBERS.filter((k) => k <= n);
  const curve = ks.map((k) => {
    const points = defaults.map((r) => r.curve.find((p) => p.k === k)!);
    return {
      k,
      chosenStandalone: meanAndStd(points.map((p) => p.chosenTruth)),
      chosenSupernet: meanAndStd(points.map((p) => p.chosenEstimate)),
      bestStandalone: meanAndStd(points.map((p) => p.bestTruth)),
    };
  });
  console.log(`\nSearch-number curve (uniform+mct): K of the ${n} table architectures drawn at random, the supernet's best chosen (exact expectation); K > ${n} needs a larger table`);
  printTable(
    curve.map((c) => ({
      K: c.k,
      'stand-alone top-1 of the choice': fmt(c.chosenStandalone, 2),
      'supernet top-1 of the choice': fmt(c.chosenSupernet, 2),
      'best stand-alone among the K': fmt(c.bestStandalone, 2),
    })),
  );
  writeJson(RESULTS, {
    table: { file: 'bench/data/standalone-demo.csv', n, steps: table.settings.steps, sampleSeed: table.settings.sampleSeed, trainingSeed: table.settings.trainingSeed, splitSeed: table.settings.splitSeed },
    supernetSteps: STEPS,
    bnRecalibrationBatches: BN_RECALIBRATION_BATCHES,
    summary,
    searchNumberCurve: curve,
    runs: runs.map((r) => ({ policy: r.policy, seed: r.seed, experimentId: r.experimentId, trainingSeconds: r.trainingSeconds, evaluationSeconds: r.evaluationSeconds, report: r.report, curve: r.curve, top1: r.top1 })),
  });
  console.log(`\nwrote ${RESULTS}`);
}

const settings = readSettings();
if (!process.argv.includes('--analyse-only')) await trainSupernets(sampledKeys(settings), settings);
analyse(readTable(settings));
