/**
 * Search quality against ground truth (npm run bench:search): MCT-NAS, random search and
 * evolutionary search on NAS-Bench-Macro (or any table: `-- --table <file> --spec <spec.json>`),
 * with the oracle trainer standing in for the GPU.
 *
 *   npm run bench:search -- [--table <file> --spec <spec.json>] [--seeds 100] [--out bench/results/search]
 *
 * Per seed (100 seeds; the variants compared are listed in VARIANTS below): one experiment through the real commands, projection, sampler and
 * search code (on the in-memory event store: test/tabular/memory-store.test.ts shows the same
 * seed gives the identical event sequence on Postgres): the authors' CIFAR schedule in steps
 * (196 steps/epoch; warm-up 25, tree building 5, MCT sampling 20 epochs) trains the tree with
 * the oracle's losses, then three searches run on the same experiment with the same oracle
 * (same proxy noise, same full-validation answers, same FLOPs window: none): MCT-NAS's
 * hierarchical node selection first, on the tree exactly as training left it, then random and
 * evolutionary search, each with K = 200 full evaluations.
 *
 * Budgets K in {20, 50, 100, 200} are read off these runs: every strategy decides its k-th
 * candidate without looking at K (K only says when to stop), so the first K candidates of the
 * K = 200 run are exactly what a run with budget K evaluates (test/tabular/oracle.test.ts
 * checks this prefix property); the result for K is the best of them by full-validation top-1
 * (ties: earlier first), as the search itself reports, and the validation batches spent are
 * those before its K-th full evaluation.
 *
 * Reported per strategy and K: mean +- std over seeds of the chosen architecture's true mean
 * accuracy, its mean rank in the table, P(top 1 %) (rank <= 66 of 6561), validation batches
 * spent, and the best true accuracy among the K evaluated; once: the Kendall tau of the proxy
 * and of the trained tree's mean rewards (visited leaves) against the ground truth.
 * The shortlist variants depend on K (factor x K proposals), so they run once per budget, like
 * evolution. Writes <out>.json, .csv and .svg (default bench/results/search); --seeds (or
 * BENCH_SEEDS) sets the seed count.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ExperimentProjections } from '../src/experiments/experiment-projections.js';
import { ExperimentService } from '../src/experiments/experiment-service.js';
import { strategyNames, type StrategyName } from '../src/search/config.js';
import { rankCandidates } from '../src/search/outcome.js';
import { MemoryEventStore } from '../src/events/memory-event-store.js';
import { defaultProxyModel, OracleTrainer } from '../src/tabular/oracle.js';
import { AUTHORS_CIFAR_SCHEDULE, createOracleExperiment, runOracleExperiment, type SearchRequest } from '../src/tabular/oracle-experiment.js';
import { nasBenchMacroPath } from '../src/tabular/paths.js';
import { type AccuracyTable, loadNasBenchMacro, loadTable, readTableSpec } from '../src/tabular/table.js';
import type { SearchScope, Shortlist } from '../src/tree/events.js';
import { constantReference, searchChartSvg } from './search-chart.js';
import { printTable, writeJson } from './support.js';

const BUDGETS = [20, 50, 100, 200] as const;
/**
 * The compared searches. 'hierarchical' is MCT-NAS with the authors' defaults (nodes training
 * created, one validation batch per 1000 evaluations); 'hierarchical-any' the `scope: 'any'`
 * option; 'hierarchical-before' the behaviour before issue #10 (every node, a new batch per
 * evaluation); 'hierarchical-shortlist' the shortlist option alone (5K proposals scored on 32
 * validation batches each, the best K fully evaluated); 'hierarchical-shortlist-any' the
 * shortlist with scope 'any' and a new batch per fill evaluation. Evolution scales its
 * population to K; evolution and the shortlist variants run once per budget.
 */
const SHORTLIST: Shortlist = { factor: 5, batches: 32 };
const VARIANTS = {
  hierarchical: { strategy: 'hierarchical', label: 'MCT-NAS', color: '#d62728' },
  'hierarchical-any': { strategy: 'hierarchical', label: "MCT-NAS scope 'any'", color: '#ff7f0e', scope: 'any' },
  'hierarchical-before': { strategy: 'hierarchical', label: 'MCT-NAS before #10', color: '#8c564b', scope: 'any', updateDataFreq: 1 },
  'hierarchical-shortlist': { strategy: 'hierarchical', label: 'MCT-NAS shortlist', color: '#e377c2', shortlist: SHORTLIST, budgets: [20] },
  'hierarchical-shortlist-any': { strategy: 'hierarchical', label: "MCT-NAS shortlist + scope 'any' + freq 1", color: '#9467bd', scope: 'any', updateDataFreq: 1, shortlist: SHORTLIST, budgets: [20, 50] },
  random: { strategy: 'random', label: 'random', color: '#1f77b4' },
  evolutionary: { strategy: 'evolutionary', label: 'evolutionary', color: '#2ca02c' },
} as const satisfies Record<string, Variant>;
interface Variant {
  readonly strategy: StrategyName;
  readonly label: string;
  readonly color: string;
  readonly scope?: SearchScope;
  readonly updateDataFreq?: number;
  readonly shortlist?: Shortlist;
  /** the budgets it runs at (default all): the shortlist's factor x K x batches validation batches make large K slow here */
  readonly budgets?: readonly number[];
}
const budgetsOf = (strategy: Strategy): readonly number[] => (VARIANTS[strategy] as Variant).budgets ?? BUDGETS;
type Strategy = keyof typeof VARIANTS;
const STRATEGIES = Object.keys(VARIANTS) as Strategy[];
const LABELS = Object.fromEntries(STRATEGIES.map((s) => [s, VARIANTS[s].label])) as Record<Strategy, string>;
const COLORS = Object.fromEntries(STRATEGIES.map((s) => [s, VARIANTS[s].color])) as Record<Strategy, string>;
void strategyNames;
const { values: args } = parseArgs({ options: { table: { type: 'string' }, spec: { type: 'string' }, seeds: { type: 'string' }, out: { type: 'string' } } });
if (args.spec !== undefined && args.table === undefined) throw new Error('--spec needs --table <file>');
const SEEDS = Number(args.seeds ?? process.env.BENCH_SEEDS ?? 100);
if (!Number.isInteger(SEEDS) || SEEDS < 1) throw new Error(`--seeds must be a positive integer, got ${args.seeds ?? process.env.BENCH_SEEDS}`);
const FLOPS_WINDOW = null;
const RESULTS = args.out ?? 'bench/results/search';

/** The table named on the command line (with its spec), else NAS-Bench-Macro. */
function benchTable(source: { table?: string; spec?: string }): AccuracyTable {
  if (source.table === undefined) return loadNasBenchMacro(nasBenchMacroPath());
  return source.spec === undefined ? loadNasBenchMacro(source.table) : loadTable(source.table, readTableSpec(source.spec));
}

interface BudgetResult {
  readonly k: number;
  readonly truth: number;
  readonly rank: number;
  readonly validations: number;
  /** full evaluations spent (K, fewer when the space ran out) */
  readonly evaluated: number;
  readonly bestEvaluated: number;
}

interface SeedResult {
  readonly seed: number;
  readonly seconds: number;
  readonly treeTau: number;
  readonly visitedLeaves: number;
  readonly strategies: Record<Strategy, BudgetResult[]>;
}

async function runSeed(table: AccuracyTable, seed: number): Promise<SeedResult> {
  const started = Date.now();
  const store = new MemoryEventStore();
  const service = new ExperimentService(store, new ExperimentProjections(store));
  const id = await createOracleExperiment(service, table, { id: `bench-${seed}`, schedule: AUTHORS_CIFAR_SCHEDULE, seed, flopsWindow: FLOPS_WINDOW });
  const budget = BUDGETS[BUDGETS.length - 1];
  // One run at the largest budget per prefix-consistent variant; evolution once per budget.
  const requests: { variant: Strategy; k: number | null; request: SearchRequest }[] = [];
  for (const variant of STRATEGIES) {
    const v: Variant = VARIANTS[variant];
    const options = { strategy: v.strategy, scope: v.scope, updateDataFreq: v.updateDataFreq, shortlist: v.shortlist };
    if (v.strategy === 'evolutionary' || v.shortlist) for (const k of budgetsOf(variant)) requests.push({ variant, k, request: { ...options, candidates: k } });
    else requests.push({ variant, k: null, request: { ...options, candidates: budget } });
  }
  const run = await runOracleExperiment(service, table, id, requests.map((r) => r.request));
  const events = await store.readStream(id);
  const strategies = {} as Record<Strategy, BudgetResult[]>;
  run.searches.forEach((outcome, i) => {
    const { variant, k: only } = requests[i]!;
    // Validation batches spent before each full evaluation, from the recorded events.
    const prefix = `search:search-${i + 1}:`;
    const validationsBefore: number[] = [];
    let validations = 0;
    for (const e of events) {
      if (!e.idempotencyKey?.startsWith(prefix)) continue;
      if (e.type === 'ValidationBatchEvaluated') validations += 1;
      else if (e.type === 'CandidateEvaluated') validationsBefore.push(validations);
    }
    const results = (strategies[variant] ??= []);
    for (const k of BUDGETS) {
      if (only !== null && k !== only) continue;
      const firstK = outcome.evaluated.slice(0, k);
      const chosen = rankCandidates(firstK)[0]!.architecture;
      results.push({
        k,
        truth: table.truth(chosen),
        rank: table.rank(chosen),
        validations: validationsBefore[Math.min(k, firstK.length) - 1]!,
        evaluated: firstK.length,
        bestEvaluated: Math.max(...firstK.map((c) => table.truth(c.architecture))),
      });
    }
  });
  return { seed, seconds: (Date.now() - started) / 1000, treeTau: run.treeKendallTau.tau, visitedLeaves: run.treeKendallTau.leaves, strategies };
}

/** E[max truth of K architectures drawn uniformly without replacement], exactly. */
function randomExpectation(table: AccuracyTable, k: number): number {
  const sorted = Array.from({ length: table.size }, (_, row) => table.truthAt(row)).sort((a, b) => a - b);
  const logChoose = (n: number, r: number) => {
    let s = 0;
    for (let j = 0; j < r; j++) s += Math.log(n - j) - Math.log(j + 1);
    return s;
  };
  const total = logChoose(sorted.length, k);
  let e = 0;
  for (let i = k - 1; i < sorted.length; i++) e += sorted[i]! * Math.exp(logChoose(i, k - 1) - total);
  return e;
}

function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const table = benchTable(args);
  const top1Rank = Math.ceil(table.size / 100);
  const workers = Math.max(1, Math.min(availableParallelism(), SEEDS));
  const seeds = Array.from({ length: SEEDS }, (_, s) => s);
  console.log(`search quality on ${table.name}: ${SEEDS} seeds x {${STRATEGIES.map((s) => LABELS[s]).join(', ')}}, K in {${BUDGETS.join(', ')}}, ${workers} worker threads`);
  const results: SeedResult[] = [];
  await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { seeds: seeds.filter((s) => s % workers === w), table: args.table, spec: args.spec } });
        worker.on('message', (result: SeedResult) => {
          results.push(result);
          if (results.length % 10 === 0 || results.length === SEEDS) console.log(`  ${results.length}/${SEEDS} seeds (${((Date.now() - started) / 1000).toFixed(0)} s)`);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${w} exited with ${code}`))));
      }),
    ),
  );
  results.sort((a, b) => a.seed - b.seed);

  const proxy = defaultProxyModel(table);
  const proxyTau = new OracleTrainer(table, 0, proxy).kendallTau();
  const treeTau = meanStd(results.map((r) => r.treeTau));
  const leaves = meanStd(results.map((r) => r.visitedLeaves));
  const reference = Object.fromEntries(BUDGETS.map((k) => [k, randomExpectation(table, k)]));
  const rows = STRATEGIES.flatMap((strategy) =>
    budgetsOf(strategy).map((k) => {
      const at = results.map((r) => r.strategies[strategy].find((b) => b.k === k)!);
      const acc = meanStd(at.map((b) => b.truth));
      return {
        strategy: LABELS[strategy],
        K: k,
        seeds: at.length,
        meanAcc: acc.mean,
        stdAcc: acc.std,
        meanRank: meanStd(at.map((b) => b.rank)).mean,
        pTop1: at.filter((b) => b.rank <= top1Rank).length / at.length,
        validationBatches: meanStd(at.map((b) => b.validations)).mean,
        fullEvaluations: meanStd(at.map((b) => b.evaluated)).mean,
        bestEvaluated: meanStd(at.map((b) => b.bestEvaluated)).mean,
      };
    }),
  );
  const seconds = (Date.now() - started) / 1000;

  console.log();
  printTable(
    rows.map((r) => ({
      strategy: r.strategy,
      K: r.K,
      'true acc (chosen)': `${r.meanAcc.toFixed(3)} ± ${r.stdAcc.toFixed(3)}`,
      'mean rank': r.meanRank.toFixed(1),
      'P(top 1%)': r.pTop1.toFixed(2),
      'full evals': r.fullEvaluations.toFixed(1),
      'val. batches': r.validationBatches.toFixed(1),
      'best evaluated': r.bestEvaluated.toFixed(3),
      'E[random best]': reference[r.K]!.toFixed(3),
    })),
  );
  console.log();
  console.log(`proxy (noise ${proxy.noise}): Kendall tau vs truth, one batch ${proxyTau.oneBatch.toFixed(3)}, noise-free ${proxyTau.noiseFree.toFixed(3)}; full validation = seed ${proxy.validationSeed} + ${proxy.validationNoise} points`);
  console.log(`trained tree: Kendall tau of mean rewards vs truth ${treeTau.mean.toFixed(3)} ± ${treeTau.std.toFixed(3)} over ${leaves.mean.toFixed(0)} visited leaves (mean)`);
  const mct = rows.filter((r) => r.strategy === LABELS.hierarchical);
  const baselines = [LABELS.random, LABELS.evolutionary];
  const ahead = BUDGETS.filter((k) => rows.filter((r) => r.K === k && baselines.includes(r.strategy)).every((r) => mct.find((m) => m.K === k)!.meanAcc > r.meanAcc));
  const at20 = mct.find((m) => m.K === 20)!.meanAcc;
  console.log(`MCT-NAS ahead of both baselines at K = ${ahead.length > 0 ? ahead.join(', ') : 'none'} of ${BUDGETS.join(', ')}; E[best] at K = 20 is ${at20.toFixed(3)} (target >= 93.0: ${at20 >= 93 ? 'met' : 'not met'})`);
  console.log(`${seconds.toFixed(0)} s on ${workers} threads (${meanStd(results.map((r) => r.seconds)).mean.toFixed(1)} s per seed)`);

  writeJson(`${RESULTS}.json`, {
    date: new Date().toISOString(),
    table: { name: table.name, architectures: table.size, best: table.truth(table.best()) },
    config: { seeds: SEEDS, budgets: BUDGETS, schedule: AUTHORS_CIFAR_SCHEDULE, flopsWindow: FLOPS_WINDOW, proxy, top1PercentRank: top1Rank },
    proxyKendallTau: proxyTau,
    treeKendallTau: { ...treeTau, visitedLeaves: leaves.mean },
    randomExpectation: reference,
    rows,
    seconds,
    perSeed: results,
  });
  const csvColumns = ['strategy', 'K', 'seeds', 'meanAcc', 'stdAcc', 'meanRank', 'pTop1', 'fullEvaluations', 'validationBatches', 'bestEvaluated'] as const;
  writeFileSync(`${RESULTS}.csv`, [csvColumns.join(','), ...rows.map((r) => csvColumns.map((c) => r[c]).join(','))].join('\n') + '\n');
  writeFileSync(
    `${RESULTS}.svg`,
    await searchChartSvg({
      title: `${table.name}: chosen architecture's true accuracy (${SEEDS} seeds)`,
      budgets: BUDGETS,
      series: STRATEGIES.map((strategy) => ({
        label: LABELS[strategy],
        color: COLORS[strategy],
        points: rows.filter((r) => r.strategy === LABELS[strategy]).map((r) => ({ k: r.K, mean: r.meanAcc, standardError: r.stdAcc / Math.sqrt(r.seeds) })),
      })),
      yTitle: 'true mean accuracy (%)',
      references: [
        { label: 'random, exact E[max truth]', color: '#7f7f7f', points: BUDGETS.map((k) => ({ k, value: reference[k]! })) },
        constantReference('global best', '#000000', BUDGETS, table.truth(table.best())),
      ],
    }),
  );
  console.log(`wrote ${RESULTS}.json, .csv, .svg`);
}

async function work(): Promise<void> {
  const data = workerData as { seeds: number[]; table?: string; spec?: string };
  const table = benchTable(data);
  for (const seed of data.seeds) parentPort!.postMessage(await runSeed(table, seed));
}

await (isMainThread ? main() : work());
