/**
 * `mctnas tabular`: one whole experiment on a tabular benchmark (NAS-Bench-Macro by default, or
 * any table with a spec, see src/tabular/table.ts), with the oracle standing in for the GPU:
 * the real event store (embedded PGlite, or Postgres with DATABASE_URL), projection, sampler and
 * search, in seconds to minutes. Prints the chosen architecture, its true accuracy and rank in
 * the table, and the experiment id (the service started on the same database serves it over
 * HTTP). Ctrl-C stops cleanly; `--resume <id>` continues where it stopped.
 */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { openDatabase } from '../database/open-database.js';
import type { FlopsWindow } from '../tree/flops-window.js';
import type { Schedule } from '../tree/schedule.js';
import { createRuntime } from '../runtime.js';
import { searchConfigOf, strategyNames, type StrategyName } from '../search/config.js';
import { AUTHORS_CIFAR_SCHEDULE, createOracleExperiment, runOracleExperiment } from '../tabular/oracle-experiment.js';
import type { ProxyModel } from '../tabular/oracle.js';
import { nasBenchMacroPath } from '../tabular/paths.js';
import { type AccuracyTable, loadNasBenchMacro, loadTable, readTableSpec } from '../tabular/table.js';
import { requireTree } from '../tree/state.js';
import { integer, nonNegative, strategy } from './arguments.js';
import { trainingProgressBar } from './progress.js';

export interface TabularOptions {
  /** the table's data file */
  readonly table: string;
  /** its spec; null: the table is NAS-Bench-Macro */
  readonly spec: string | null;
  readonly schedule: Schedule;
  readonly seed: number;
  readonly proxy: Partial<ProxyModel>;
  readonly strategy: StrategyName;
  readonly candidates: number;
  readonly flopsWindow: FlopsWindow | null;
  /** an interrupted experiment to continue (its recorded settings win) */
  readonly resume: string | null;
  readonly database: { readonly databaseUrl: string | null; readonly dataDir: string };
}

export interface TabularIo {
  /** one line of the result */
  readonly print: (line: string) => void;
  /** where progress bars are drawn; null for none */
  readonly progress: NodeJS.WriteStream | null;
  readonly signal?: AbortSignal;
}

export interface TabularResult {
  readonly experimentId: string;
  readonly architecture: number[];
  readonly key: string;
  /** ground truth (mean accuracy over the table's seeds) of the chosen architecture */
  readonly truth: number;
  readonly rank: number;
  readonly validationBatchEvaluations: number;
}

export async function runTabularExperiment(options: TabularOptions, io: TabularIo): Promise<TabularResult> {
  const table = options.spec ? loadTable(options.table, readTableSpec(options.spec)) : loadNasBenchMacro(options.table);
  const { database } = await openDatabase(options.database);
  const { service } = createRuntime(database);
  try {
    const experimentId =
      options.resume ??
      (await createOracleExperiment(service, table, {
        schedule: options.schedule,
        seed: options.seed,
        proxy: options.proxy,
        flopsWindow: options.flopsWindow,
        search: { strategy: options.strategy, candidates: options.candidates },
      }));
    io.print(`experiment   ${experimentId} (${database.kind} at ${database.location})`);
    const { config } = requireTree((await service.projections.current(experimentId)).tree);
    const recorded = searchConfigOf(config.experiment);
    const search = { strategy: recorded.strategy, candidates: recorded.candidates };
    const bars = io.progress ? progressBars(io.progress) : null;
    let run;
    try {
      run = await runOracleExperiment(service, table, experimentId, [search], {
        signal: io.signal,
        onStep: bars?.training.update,
        onCandidate: bars?.candidate,
      });
    } catch (error) {
      if (io.signal?.aborted) {
        io.print(`interrupted: continue with  mctnas tabular --resume ${experimentId} --table ${options.table}${options.spec ? ` --spec ${options.spec}` : ''}`);
      }
      throw error;
    } finally {
      bars?.stop();
    }
    const outcome = run.searches[0]!;
    const chosen = outcome.best.architecture;
    const result: TabularResult = {
      experimentId,
      architecture: chosen,
      key: table.key(chosen),
      truth: table.truth(chosen),
      rank: table.rank(chosen),
      validationBatchEvaluations: outcome.validationBatchEvaluations,
    };
    printSummary(io.print, table, run, result);
    return result;
  } finally {
    await database.close();
  }
}

function printSummary(print: (line: string) => void, table: AccuracyTable, run: Awaited<ReturnType<typeof runOracleExperiment>>, result: TabularResult): void {
  const proxy = run.oracle.proxy;
  const tau = run.oracle.kendallTau();
  const { config } = requireTree(run.trainedTree);
  const s = config.schedule;
  const outcome = run.searches[0]!;
  const best = table.best();
  const chosen = result.architecture;
  print(`table        ${table.name}: ${table.size} architectures, ${table.seeds} accuracy column(s)`);
  print(`proxy        loss noise ${proxy.noise} (Kendall tau vs truth: one batch ${tau.oneBatch.toFixed(3)}, noise-free ${tau.noiseFree.toFixed(3)}); full validation: column ${proxy.validationSeed} + ${proxy.validationNoise} points noise`);
  print(`training     ${run.trainingSteps} steps (warm-up ${s.warmupSteps}, tree building ${s.treeBuildingSteps}, MCT sampling ${s.mctSteps}), seed ${config.seed}`);
  print(`tree         Kendall tau of mean rewards vs truth ${run.treeKendallTau.tau.toFixed(3)} over ${run.treeKendallTau.leaves} visited leaves`);
  print(`search       ${outcome.strategy}, ${outcome.evaluated.length} candidates, ${outcome.validationBatchEvaluations} validation batches`);
  print(`chosen       ${result.key}  ${table.space.describe(chosen)}  (full validation ${outcome.best.top1.toFixed(2)} %)`);
  print(`true acc     ${result.truth.toFixed(3)} %, rank ${result.rank} of ${table.size} (top ${((100 * result.rank) / table.size).toFixed(2)} %); best in the table ${table.truth(best).toFixed(3)} % (${table.key(best)})`);
  print(`cost         ${table.space.hasCosts ? `${(table.space.flops(chosen) / 1e6).toFixed(1)} M FLOPs, ${(table.space.params(chosen) / 1e6).toFixed(2)} M params` : 'none: the space has named ops without a cost model'}`);
  print(`query        experiment id ${result.experimentId}: the HTTP service on the same database (npm start) serves its tree, events and search results`);
}

function progressBars(stream: NodeJS.WriteStream) {
  const training = trainingProgressBar(stream);
  let search: cliProgress.SingleBar | null = null;
  return {
    training,
    candidate(p: { strategy: string; evaluated: number; candidates: number }): void {
      if (!search) {
        training.stop();
        search = new cliProgress.SingleBar(
          { stream, format: `search ${p.strategy.padEnd(12)} |{bar}| {value}/{total} candidates`, barsize: 30, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000 },
          cliProgress.Presets.shades_classic,
        );
        search.start(p.candidates, 0);
      }
      search.update(p.evaluated);
    },
    stop(): void {
      training.stop();
      search?.stop();
    },
  };
}

/** Adds `tabular` to a commander program (the lead's `mctnas` CLI). */
export function registerTabularCommand(program: Command): Command {
  const s = AUTHORS_CIFAR_SCHEDULE;
  return program
    .command('tabular')
    .description('run one experiment end to end on a tabular benchmark, an oracle standing in for the GPU')
    .option('--table <file>', 'benchmark table (.json or .csv)', nasBenchMacroPath())
    .option('--spec <file>', 'table spec (JSON); omit for NAS-Bench-Macro')
    .option('--steps-per-epoch <n>', 'steps per epoch', integer(1), s.stepsPerEpoch)
    .option('--warmup-steps <n>', 'warm-up steps (uniform sampling, no tree updates)', integer(0), s.warmupSteps)
    .option('--tree-building-steps <n>', 'tree-building steps (uniform sampling, rewards into the tree)', integer(0), s.treeBuildingSteps)
    .option('--mct-steps <n>', 'MCT sampling steps', integer(0), s.mctSteps)
    .option('--seed <n>', 'experiment seed (sampler, search and oracle noise)', integer(0), 0)
    .option('--noise <sigma>', 'relative noise of a one-batch loss', nonNegative, 0.2)
    .option('--validation-noise <points>', 'noise of a full validation, in accuracy points', nonNegative, 0.25)
    .option('--strategy <name>', strategyNames.join(' | '), strategy, 'hierarchical')
    .option('--candidates <k>', 'K, candidates fully evaluated', integer(1), 20)
    .option('--flops-min <n>', 'FLOPs window lower bound (multiply-accumulates)', nonNegative)
    .option('--flops-max <n>', 'FLOPs window upper bound', nonNegative)
    .option('--resume <experimentId>', 'continue an interrupted experiment with its recorded settings')
    .action(async (flags: Record<string, unknown>) => {
      const min = flags.flopsMin as number | undefined;
      const max = flags.flopsMax as number | undefined;
      const config = loadConfig(process.env);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      try {
        await runTabularExperiment(
          {
            table: String(flags.table),
            spec: (flags.spec as string | undefined) ?? null,
            schedule: {
              stepsPerEpoch: flags.stepsPerEpoch as number,
              warmupSteps: flags.warmupSteps as number,
              treeBuildingSteps: flags.treeBuildingSteps as number,
              mctSteps: flags.mctSteps as number,
            },
            seed: flags.seed as number,
            proxy: { noise: flags.noise as number, validationNoise: flags.validationNoise as number },
            strategy: flags.strategy as StrategyName,
            candidates: flags.candidates as number,
            flopsWindow: min === undefined && max === undefined ? null : { min: min ?? 0, max: max ?? Number.MAX_SAFE_INTEGER },
            resume: (flags.resume as string | undefined) ?? null,
            database: { databaseUrl: config.databaseUrl, dataDir: config.dataDir },
          },
          { print: (line) => console.log(line), progress: process.stderr, signal: controller.signal },
        );
      } catch (error) {
        // Interrupted: the resume hint is printed already. Otherwise the message names the
        // problem (bad table row, unknown experiment, lease held elsewhere...).
        if (!controller.signal.aborted) console.error(`error: ${(error as Error).message ?? String(error)}`);
        process.exitCode = controller.signal.aborted ? 130 : 1;
      } finally {
        process.off('SIGINT', interrupt);
      }
    });
}
