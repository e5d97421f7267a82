/**
 * `npm run bench:ablation`: the paper's ablation on our own supernet (issue 15).
 *
 * Three supernets per seed with the same step budget (src/ablation/policies.ts: uniform only,
 * MCT only, uniform warm-up + MCT), each an ordinary experiment trained by the real worker on
 * the embedded database under `.ablation/` (resumable: run it again after an interruption).
 * On each, the ranking analysis against the stand-alone table (bench/data/standalone-demo.csv,
 * made by `mctnas standalone`, see bench/data/README.md) is recorded as a RankingAnalysisRecorded
 * event (every table architecture evaluated with BN recalibration on the table's validation
 * split); on the default schedule's supernet a real hierarchical search of K = 50 candidates is
 * recorded too. The search's choice after its first K candidates is what a search with budget K
 * chooses (K only stops its loop: test/search/hierarchical.test.ts), so one search gives the
 * whole curve K = 1, 5, 10, 20, 50. The chosen architectures are then trained stand-alone with
 * the table's recipe (the table holds 20 of 6561 architectures, a search's choice is rarely one
 * of them), which gives the curve's stand-alone accuracy.
 *
 * Prints the ranking table (mean ± std over seeds), the resolution the design has and what the
 * paper's effect size would need, the search-number curve; writes bench/results/ablation.json
 * and bench/results/ablation.svg.
 *
 *   node dist/bench/ablation.js [--seeds 3] [--from-seed 0] [--steps 1500] [--analyse-only]  (no supernet work: the analysis of what is recorded)
 *                               [--only <policy>] [--db <name>]   (a second process on its own database)
 *                               [--no-standalone]                  (skip training the choices stand-alone)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { parse } from 'csv-parse/sync';
import { ablationPolicies, ablationRequest, type AblationPolicy, policySchedule } from '../src/ablation/policies.js';
import { supernetRanking } from '../src/ablation/supernet-ranking.js';
import { LocalDirectoryCheckpointStore } from '../src/adapters/filesystem/checkpoint-store.js';
import { rankingReportOf, type RankingPair, type StoredRankingReport } from '../src/analysis/ranking-analysis.js';
import { jackknifeStandardError, kendallNullStandardError, kendallTau } from '../src/analysis/rank-correlation.js';
import { meanAndStd } from '../src/analysis/ranking.js';
import { openDatabase } from '../src/database/open-database.js';
import { presetRequest } from '../src/experiments/presets.js';
import type { ExperimentService } from '../src/experiments/experiment-service.js';
import type { StandaloneTable } from '../src/experiments/ranking-runner.js';
import { createRuntime } from '../src/runtime.js';
import { rankCandidates } from '../src/search/outcome.js';
import type { SearchSpaceDefinition } from '../src/search-space/definition.js';
import { SearchSpace } from '../src/search-space/search-space.js';
import { type StandaloneSettings, trainStandaloneNetworks } from '../src/standalone/standalone.js';
import { constantReference, searchChartSvg } from './search-chart.js';
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
/**
 * The demo preset's budget (the default policy's 750 / 150 / 600 split is its schedule): the
 * uniform and uniform+mct supernets are then trained (76-78% mean top-1 on the table's
 * architectures, 81% stand-alone); at 100 steps they were at 11-20%, too little to rank.
 */
const STEPS = option('steps', 1500);
const BN_RECALIBRATION_BATCHES = option('bn-batches', 10);
const TOP_K = [3, 5, 10];
const SEARCH_NUMBERS = [1, 5, 10, 20, 50];
const CURVE_CANDIDATES = SEARCH_NUMBERS[SEARCH_NUMBERS.length - 1]!;
const CURVE_SEARCH_ID = `curve-k${CURVE_CANDIDATES}`;
/** the paper's Table (ablation on NAS-Bench-Macro / CIFAR-10): Kendall tau vs stand-alone */
const PAPER_TAU: Record<AblationPolicy, number | null> = { uniform: 0.7241, mct: null, 'uniform+mct': 0.7622 };
/** the paper's difference between its two supernets, the effect the design should resolve */
const PAPER_DELTA = 0.7622 - 0.7241;
/** two-sided 5% test with 80% power: the difference must be (1.96 + 0.84) standard errors */
const Z_RESOLVE = 1.96 + 0.8416;

const TABLE = resolve('bench/data/standalone-demo.csv');
const TABLE_SETTINGS = resolve('bench/data/standalone-demo.settings.json');
const WORK = resolve('.ablation');
const ONLY = textOption('only');
const DATABASE_DIR = join(WORK, textOption('db') ?? 'db');
const STANDALONE_CHOSEN = join(WORK, 'standalone-chosen');
const RESULTS = resolve('bench/results/ablation');

type TableSettings = StandaloneSettings & { readonly experiment: { readonly searchSpace: SearchSpaceDefinition; readonly training: { readonly validationPerClass: number } } };

/** What one supernet gave, as recorded in its experiment's events. */
interface RunResult {
  readonly policy: AblationPolicy;
  readonly seed: number;
  readonly steps: number;
  readonly experimentId: string;
  readonly analysisPosition: number;
  readonly pairs: RankingPair[];
  readonly report: StoredRankingReport;
  /** the curve search's full evaluations in order (default schedule only) */
  readonly search: { readonly candidate: number; readonly key: string; readonly top1: number }[] | null;
  readonly searchCompleted: boolean;
}

const bar = new cliProgress.SingleBar(
  { format: '{run} |{bar}| {value}/{total} {what} | ETA {eta_formatted}', barsize: 30, noTTYOutput: true, notTTYSchedule: 15_000, etaBuffer: 50 },
  cliProgress.Presets.shades_classic,
);
let barWhat: string | null = null;
function progress(run: string, what: string, value: number, total: number): void {
  if (barWhat !== `${run}/${what}`) {
    bar.stop();
    barWhat = `${run}/${what}`;
    bar.start(total, value, { run: run.padEnd(20), what });
  } else bar.update(value, { run: run.padEnd(20), what });
}
function endProgress(): void {
  bar.stop();
  barWhat = null;
}

function readSettings(): TableSettings {
  return JSON.parse(readFileSync(TABLE_SETTINGS, 'utf8')) as TableSettings;
}

function readTable(): StandaloneTable {
  const text = readFileSync(TABLE, 'utf8');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as { arch: string; top1: string }[];
  return { name: 'standalone-demo', sha256: createHash('sha256').update(text).digest('hex'), rows: rows.map((r) => ({ key: r.arch, top1: Number(r.top1) })) };
}

const experimentIdOf = (policy: AblationPolicy, seed: number) => `ablation-${policy.replace('+', '-')}-s${seed}-${STEPS}`;

function writeAtomically(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** What the experiment's events say about one supernet; null until its ranking analysis is recorded. */
async function resultOf(service: ExperimentService, id: string, table: StandaloneTable): Promise<RunResult | null> {
  const match = /^ablation-(uniform|mct|uniform-mct)-s(\d+)-(\d+)$/.exec(id);
  if (!match) return null;
  const view = await service.projections.current(id);
  const analysis = view.status.rankingAnalyses.find((a) => a.analysisId === table.name);
  if (!analysis) return null;
  const search = view.status.searchSummaries.find((s) => s.searchId === CURVE_SEARCH_ID);
  const space = service.space(view);
  return {
    policy: match[1]!.replace('uniform-mct', 'uniform+mct') as AblationPolicy,
    seed: Number(match[2]),
    steps: Number(match[3]),
    experimentId: id,
    analysisPosition: analysis.position,
    pairs: analysis.pairs,
    report: analysis.report,
    search: search ? search.evaluations.map((c) => ({ candidate: c.candidate, key: space.encode(c.architecture), top1: c.top1 })) : null,
    searchCompleted: search?.result !== null && search !== undefined,
  };
}

async function runSupernets(table: StandaloneTable, settings: TableSettings, signal: AbortSignal): Promise<boolean> {
  const { database } = await openDatabase({ databaseUrl: null, dataDir: DATABASE_DIR });
  const { service } = createRuntime(database);
  try {
    for (let seed = FIRST_SEED; seed < SEEDS; seed++) {
      for (const policy of ablationPolicies) {
        if (ONLY !== undefined && policy !== ONLY) continue;
        const id = experimentIdOf(policy, seed);
        const done = await resultOf(service, id, table).catch(() => null);
        if (done && (policy !== 'uniform+mct' || done.searchCompleted)) continue;
        const run = `${policy} seed ${seed}`;
        const request = ablationRequest(presetRequest('demo'), {
          policy,
          steps: STEPS,
          seed,
          validationSplitSeed: settings.splitSeed,
          validationPerClass: settings.experiment.training.validationPerClass,
          bnRecalibrationBatches: BN_RECALIBRATION_BATCHES,
        });
        const result = await supernetRanking(service, request, table, {
          experimentId: id,
          workerId: `${hostname()}:${WORK}`,
          checkpoints: new LocalDirectoryCheckpointStore(join(WORK, 'checkpoints')),
          // one process per database: no other worker waits for this lease, and on a crowded
          // machine a step (or the start-up) can hold the event loop past a 30 s lease
          leaseTtlMs: 30 * 60_000,
          evaluation: { bnRecalibrationBatches: BN_RECALIBRATION_BATCHES, validationImages: settings.experiment.training.validationPerClass * 10 },
          search: policy === 'uniform+mct' ? { searchId: CURVE_SEARCH_ID, candidates: CURVE_CANDIDATES } : undefined,
          signal,
          onProgress: (p) => progress(run, 'training steps', p.step + 1, p.totalSteps),
          onEvaluated: (n, total) => progress(run, 'table architectures on the supernet', n, total),
          onCandidate: (n, total) => progress(run, 'search candidates', n, total),
        });
        endProgress();
        if (result === null) return false;
        console.log(`${run}: trained ${result.seconds.training.toFixed(0)} s, ranking ${result.seconds.ranking.toFixed(0)} s, search ${result.seconds.search.toFixed(0)} s; tau ${result.analysis.report.kendallTau?.toFixed(3)}`);
      }
    }
    return true;
  } finally {
    endProgress();
    await database.close();
  }
}

/**
 * Every supernet of this budget recorded in the bench's databases (`.ablation/db*`: one, or one
 * per process with --db), read from its events. An unfinished curve search counts with the
 * candidates it has evaluated: its first k are a budget-k search's.
 */
async function readRuns(table: StandaloneTable): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  const dirs = existsSync(WORK) ? readdirSync(WORK).filter((d) => d.startsWith('db')) : [];
  for (const dir of dirs) {
    const { database } = await openDatabase({ databaseUrl: null, dataDir: join(WORK, dir) });
    try {
      const { service } = createRuntime(database);
      for (const entry of await service.list()) {
        const run = await resultOf(service, entry.id, table);
        if (run && run.steps === STEPS && run.seed < SEEDS) runs.push(run);
      }
    } finally {
      await database.close();
    }
  }
  return runs.sort((a, b) => a.seed - b.seed || ablationPolicies.indexOf(a.policy) - ablationPolicies.indexOf(b.policy));
}

/** The choice of a search with budget K: the best of its first K candidates (rankCandidates' order). */
function choiceAt(search: NonNullable<RunResult['search']>, k: number): { key: string; top1: number } | null {
  if (search.length < k) return null;
  return rankCandidates(search.slice(0, k))[0]!;
}

/** The curve's choices not in the table, trained stand-alone with the table's recipe (cached per network). */
async function standaloneOfChoices(runs: readonly RunResult[], table: StandaloneTable, settings: TableSettings, train: boolean, signal: AbortSignal): Promise<Map<string, number>> {
  const known = new Map(table.rows.map((r) => [r.key, r.top1]));
  const space = SearchSpace.fromDefinition(settings.experiment.searchSpace);
  const wanted = [...new Set(runs.flatMap((r) => (r.search ? SEARCH_NUMBERS.map((k) => choiceAt(r.search!, k)?.key).filter((k): k is string => k !== undefined) : [])))].filter((k) => !known.has(k));
  // the table's first architecture too: retraining it checks that the recipe still gives the table's number
  const check = table.rows[0]!.key;
  const keys = train ? [check, ...wanted] : [];
  let steps = 0;
  const rows = keys.length === 0 ? [] : await trainStandaloneNetworks(settings, keys.map((k) => space.decode(k)), STANDALONE_CHOSEN, {
    signal,
    onStep: () => progress('stand-alone choices', 'training steps', ++steps, keys.length * settings.steps),
    onNetwork: (p) => {
      steps = (p.index + 1) * settings.steps;
    },
  });
  endProgress();
  const out = new Map(known);
  for (const row of rows) if (row.key !== check || !known.has(row.key)) out.set(row.key, row.top1);
  const retrained = rows.find((r) => r.key === check);
  if (retrained) console.log(`recipe check: ${check} retrained stand-alone ${retrained.top1.toFixed(2)}% (table: ${known.get(check)!.toFixed(2)}%)`);
  const cache = join(STANDALONE_CHOSEN, 'choices.json');
  if (train) writeAtomically(cache, { check: retrained ? { key: check, table: known.get(check), retrained: retrained.top1 } : null, rows: Object.fromEntries(rows.map((r) => [r.key, r.top1])) });
  else if (existsSync(cache)) for (const [k, v] of Object.entries((JSON.parse(readFileSync(cache, 'utf8')) as { rows: Record<string, number> }).rows)) if (!known.has(k)) out.set(k, v);
  return out;
}

const fmt = (m: { mean: number; std: number; n: number }, digits = 3) => `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)} (${m.n})`;
const values = (xs: readonly (number | null)[]) => xs.filter((x): x is number => x !== null);

/**
 * How well the design separates two policies: per seed, the jackknife standard error of the
 * paired difference of their taus on the same architectures (architecture sampling), and the
 * spread of each policy's tau over seeds (supernet training). The difference of two policies'
 * means over m seeds has SE^2 = (sd_a^2 + sd_b^2) / m + SE_jack(diff)^2 (the table is shared by
 * every seed, so its part does not average out). What the paper's 0.038 needs: SE <= 0.038 / 2.80.
 */
function resolution(runs: readonly RunResult[], a: AblationPolicy, b: AblationPolicy, n: number) {
  const seeds = [...new Set(runs.map((r) => r.seed))];
  const paired = seeds
    .map((s) => [runs.find((r) => r.seed === s && r.policy === a), runs.find((r) => r.seed === s && r.policy === b)] as const)
    .filter((p): p is readonly [RunResult, RunResult] => p[0] !== undefined && p[1] !== undefined);
  if (paired.length === 0) return null;
  const jack = meanAndStd(
    paired.map(([ra, rb]) => {
      const truth = ra.pairs.map((p) => p.standalone);
      const both = ra.pairs.map((p, i) => [p.supernet, rb.pairs[i]!.supernet] as const);
      // the statistic of a leave-one-out sample: tau(a) - tau(b) on the same architectures
      return jackknifeStandardError(
        truth,
        both.map((_, i) => i),
        (t, idx) => kendallTau(t, idx.map((i) => both[i]![0])) - kendallTau(t, idx.map((i) => both[i]![1])),
      );
    }),
  ).mean;
  const sd = (p: AblationPolicy) => meanAndStd(values(runs.filter((r) => r.policy === p).map((r) => r.report.kendallTau))).std;
  const m = paired.length;
  const seedVariance = sd(a) ** 2 + sd(b) ** 2;
  const standardError = Math.sqrt(seedVariance / m + jack ** 2);
  const target = PAPER_DELTA / Z_RESOLVE;
  const delta = meanAndStd(paired.map(([ra, rb]) => (ra.report.kendallTau ?? NaN) - (rb.report.kendallTau ?? NaN)));
  return {
    policies: [a, b],
    seeds: m,
    tauDifference: delta,
    jackknifeStandardErrorOfDifference: jack,
    seedStandardDeviations: [sd(a), sd(b)],
    standardErrorOfDifference: standardError,
    paperDifference: PAPER_DELTA,
    targetStandardError: target,
    resolvesPaperEffect: standardError <= target,
    // half of the target variance to each part: the table's n scales the jackknife part as 1/n, seeds the rest
    architecturesNeeded: Math.ceil(n * (jack / (target / Math.SQRT2)) ** 2),
    seedsNeeded: Math.ceil(seedVariance / (target / Math.SQRT2) ** 2),
  };
}

async function analyse(table: StandaloneTable, settings: TableSettings, trainChoices: boolean, signal: AbortSignal): Promise<void> {
  const runs = await readRuns(table);
  if (runs.length === 0) {
    console.log('no finished supernet yet');
    return;
  }
  const n = table.rows.length;
  const summary = ablationPolicies.map((policy) => {
    const mine = runs.filter((r) => r.policy === policy);
    const pick = (f: (r: StoredRankingReport) => number | null) => meanAndStd(values(mine.map((r) => f(r.report))));
    return {
      policy,
      seeds: mine.map((r) => r.seed),
      schedule: policySchedule(policy, STEPS, 100),
      kendallTau: pick((r) => r.kendallTau),
      kendallTauPerSeed: mine.map((r) => r.report.kendallTau),
      kendallTauStandardErrorPerRun: pick((r) => r.kendallTauStandardError),
      spearmanRho: pick((r) => r.spearmanRho),
      topKOverlap: TOP_K.map((k) => ({ k, ...meanAndStd(mine.map((r) => r.report.topKOverlap.find((t) => t.k === k)?.overlap ?? NaN)) })),
      supernetTop1: meanAndStd(mine.map((r) => meanAndStd(r.pairs.map((p) => p.supernet)).mean)),
      paperKendallTau: PAPER_TAU[policy],
    };
  });
  // every run's report must be the one its recorded pairs give (the event is self-consistent)
  // (to 1e-9: jsonb stores numbers as decimals, so the last binary digit may not round-trip)
  const same = (a: unknown, b: unknown): boolean =>
    typeof a === 'number' && typeof b === 'number'
      ? Math.abs(a - b) <= 1e-9
      : a !== null && b !== null && typeof a === 'object' && typeof b === 'object'
        ? Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => same(v, (b as Record<string, unknown>)[k]))
        : a === b;
  for (const r of runs) if (!same(rankingReportOf(r.pairs), r.report)) throw new Error(`${r.experimentId}: recorded report differs from its pairs`);
  console.log(`\nRanking against stand-alone training: ${n} architectures (bench/data/standalone-demo.csv), ${STEPS} supernet steps, mean ± std over seeds (count)`);
  printTable(
    summary.map((s) => ({
      policy: s.policy,
      'Kendall tau': fmt(s.kendallTau),
      'per seed': s.kendallTauPerSeed.map((t) => t?.toFixed(3) ?? '-').join(' '),
      'SE per run (jackknife)': s.kendallTauStandardErrorPerRun.mean.toFixed(3),
      'paper tau': s.paperKendallTau === null ? '-' : s.paperKendallTau.toFixed(4),
      'Spearman rho': fmt(s.spearmanRho),
      ...Object.fromEntries(s.topKOverlap.map((t) => [`top-${t.k}`, t.mean.toFixed(2)])),
      'mean supernet top-1': s.supernetTop1.mean.toFixed(2),
    })),
  );
  const resolutions = [resolution(runs, 'uniform+mct', 'uniform', n), resolution(runs, 'uniform+mct', 'mct', n), resolution(runs, 'mct', 'uniform', n)].filter((r) => r !== null);
  console.log(`\nCan the design tell two policies apart? chance spread of tau at n = ${n}: ${kendallNullStandardError(n).toFixed(3)}; the paper's difference ${PAPER_DELTA.toFixed(4)} needs SE <= ${(PAPER_DELTA / Z_RESOLVE).toFixed(4)}`);
  printTable(
    resolutions.map((r) => ({
      pair: r.policies.join(' - '),
      seeds: r.seeds,
      'tau difference': fmt(r.tauDifference),
      'SE (table, jackknife)': r.jackknifeStandardErrorOfDifference.toFixed(3),
      'sd over seeds': r.seedStandardDeviations.map((s) => s.toFixed(3)).join(' / '),
      'SE of the difference': r.standardErrorOfDifference.toFixed(3),
      'resolves 0.038': r.resolvesPaperEffect ? 'yes' : 'no',
      'architectures needed': r.architecturesNeeded,
      'seeds needed': r.seedsNeeded,
    })),
  );

  const curveRuns = runs.filter((r) => r.policy === 'uniform+mct' && r.search !== null);
  const standalone = await standaloneOfChoices(curveRuns, table, settings, trainChoices, signal);
  const curve = SEARCH_NUMBERS.map((k) => {
    const choices = curveRuns.map((r) => ({ seed: r.seed, choice: choiceAt(r.search!, k) })).filter((c) => c.choice !== null);
    return {
      k,
      choices: choices.map((c) => ({ seed: c.seed, key: c.choice!.key, supernet: c.choice!.top1, standalone: standalone.get(c.choice!.key) ?? null })),
      chosenSupernet: meanAndStd(choices.map((c) => c.choice!.top1)),
      chosenStandalone: meanAndStd(values(choices.map((c) => standalone.get(c.choice!.key) ?? null))),
    };
  });
  console.log(`\nSearch-number curve (uniform+mct): a real hierarchical search of ${CURVE_CANDIDATES} candidates per seed (evaluated: ${curveRuns.map((r) => `seed ${r.seed} ${r.search!.length}${r.searchCompleted ? '' : ' (stopped)'}`).join(', ')}); at K its choice is the best of its first K (supernet top-1); stand-alone top-1 of the choice from the table's recipe`);
  printTable(
    curve.map((c) => ({
      K: c.k,
      choices: c.choices.map((x) => x.key).join(' '),
      'supernet top-1 of the choice': fmt(c.chosenSupernet, 2),
      'stand-alone top-1 of the choice': fmt(c.chosenStandalone, 2),
    })),
  );
  const tableMean = meanAndStd(table.rows.map((r) => r.top1)).mean;
  const tableBest = Math.max(...table.rows.map((r) => r.top1));
  const standardError = (m: { std: number; n: number }) => (m.n > 1 ? m.std / Math.sqrt(m.n) : 0);
  mkdirSync(resolve('bench/results'), { recursive: true });
  writeFileSync(
    `${RESULTS}.svg`,
    await searchChartSvg({
      title: `Search-number curve, uniform warm-up + MCT supernet (${STEPS} steps, ${curveRuns.length} seeds)`,
      yTitle: 'top-1 of the chosen architecture (%)',
      budgets: SEARCH_NUMBERS,
      series: [
        { label: 'stand-alone top-1 of the choice', color: '#1f77b4', points: curve.filter((c) => c.chosenStandalone.n > 0).map((c) => ({ k: c.k, mean: c.chosenStandalone.mean, standardError: standardError(c.chosenStandalone) })) },
        { label: 'supernet top-1 of the choice', color: '#d62728', points: curve.filter((c) => c.chosenSupernet.n > 0).map((c) => ({ k: c.k, mean: c.chosenSupernet.mean, standardError: standardError(c.chosenSupernet) })) },
      ],
      references: [constantReference(`stand-alone table: mean of ${n} random architectures`, '#7f7f7f', SEARCH_NUMBERS, tableMean), constantReference('stand-alone table: best', '#000000', SEARCH_NUMBERS, tableBest)],
    }),
  );
  writeJson(`${RESULTS}.json`, {
    date: new Date().toISOString(),
    table: { file: 'bench/data/standalone-demo.csv', sha256: table.sha256, n, steps: settings.steps, sampleSeed: settings.sampleSeed, trainingSeed: settings.trainingSeed, splitSeed: settings.splitSeed, mean: tableMean, best: tableBest },
    supernetSteps: STEPS,
    bnRecalibrationBatches: BN_RECALIBRATION_BATCHES,
    summary,
    resolution: resolutions,
    searchNumberCurve: {
      searchId: CURVE_SEARCH_ID,
      candidates: CURVE_CANDIDATES,
      searches: curveRuns.map((r) => ({ seed: r.seed, experimentId: r.experimentId, evaluated: r.search!.length, completed: r.searchCompleted })),
      points: curve,
    },
    runs,
  });
  console.log(`\nwrote ${RESULTS}.json and ${RESULTS}.svg`);
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const settings = readSettings();
const table = readTable();
const analyseOnly = process.argv.includes('--analyse-only');
const finished = analyseOnly || (await runSupernets(table, settings, controller.signal));
if (finished && ONLY === undefined) await analyse(table, settings, !process.argv.includes('--no-standalone'), controller.signal);
