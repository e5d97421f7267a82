#!/usr/bin/env node
/**
 * The `mctnas` command line: run, resume, search and inspect experiments.
 *   mctnas start                      the service + the default experiment (same as npm start)
 *   mctnas serve                      the HTTP service only
 *   mctnas create --preset demo       create an experiment (demo | nas-bench-macro-cifar10 | imagenet, or --config file.json)
 *   mctnas train <id>                 train (resuming), search and complete an experiment
 *   mctnas search <id> --strategy random   another search on a trained experiment's supernet
 *   mctnas list | inspect <id>        what is stored
 *   mctnas tabular                    an end-to-end experiment on a tabular benchmark
 *   mctnas standalone                 stand-alone ground truth: a seeded sample trained from scratch
 * Configuration comes from the environment (see README): DATABASE_URL, MCTNAS_DATA_DIR, PORT...
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { presetRequest } from '../experiments/presets.js';
import { strategyNames, type StrategyName } from '../search/config.js';
import { integer, strategy } from './arguments.js';
import { runDefaultJob } from './default-job.js';
import { printOutcome, trainJob } from './jobs.js';
import { searchJob } from './search-job.js';
import { startService } from './service.js';
import { registerStandaloneCommand } from './standalone.js';
import { registerTabularCommand } from './tabular.js';
import { inspectExperiment } from './inspect.js';
import { workerCommand, workersTable } from './worker.js';
import { keepLast, registerCheckpointCommands } from './checkpoints.js';
import { retentionPolicy } from '../checkpoints/retention.js';

const config = loadConfig(process.env);
const program = new Command('mctnas').description('event-sourced MCT-NAS experiments');

program
  .command('start', { isDefault: true })
  .description('serve the API and run (or resume) the default experiment')
  .action(() => runDefaultJob(config));

program
  .command('serve')
  .description('serve the HTTP API until Ctrl-C or SIGTERM (running requests finish first)')
  .action(async () => {
    const running = await startService(config);
    await new Promise((resolve) => running.stopping.addEventListener('abort', resolve, { once: true }));
    await running.close();
  });

program
  .command('create')
  .description('create an experiment and print its id')
  .option('--preset <name>', 'demo | nas-bench-macro-cifar10 | imagenet', 'demo')
  .option('--config <file>', 'a full creation request as JSON (overrides --preset)')
  .option('--name <name>', 'experiment name')
  .option('--seed <n>', 'seed', integer(0))
  .option('--data-dir <dir>', 'dataset location for the cifar10 / imagenet presets')
  .option('--priority <n>', 'pool claim order: higher first, then oldest first (default 0)', integer(-1_000_000))
  .action(async (flags: { preset: string; config?: string; name?: string; seed?: number; dataDir?: string; priority?: number }) => {
    const given = flags.config ? JSON.parse(readFileSync(flags.config, 'utf8')) : presetRequest(flags.preset, flags);
    const request = flags.priority === undefined ? given : { ...given, priority: flags.priority };
    const running = await startService(config, { http: false });
    try {
      const { id } = await running.runtime.service.create(request);
      console.log(id);
    } finally {
      await running.close();
    }
  });

program
  .command('worker')
  .description('a pool worker: claim the oldest runnable experiment on the shared database, train it, take the next (any number, on any hosts)')
  .option('--worker-id <id>', 'unique per process (default: MCTNAS_WORKER_ID or the host name, plus the pid)')
  .option('--lease-ttl-ms <ms>', 'lease lifetime without a heartbeat: how long a killed worker holds its experiment', integer(1000), 30_000)
  .option('--poll-ms <ms>', 'wait between looks when nothing is runnable (an idle worker takes over a dead worker\'s experiment within lease TTL + this)', integer(10), 500)
  .option('--exit-when-idle', 'exit once nothing is runnable or leased elsewhere (default: wait for new experiments)')
  .option('--checkpoint-every <n>', 'steps between checkpoints (supernet experiments)', integer(1), 50)
  .action(async (flags: { workerId?: string; leaseTtlMs: number; pollMs: number; exitWhenIdle?: boolean; checkpointEvery: number }) => {
    const running = await startService(config, { http: false, waitForDatabase: true });
    try {
      const ran = await workerCommand(running.runtime.service, config, { ...flags, exitWhenIdle: flags.exitWhenIdle === true });
      console.log(`worker done: ran ${ran.length} experiment(s)`);
    } finally {
      await running.close();
    }
  });

program
  .command('priority <experimentId> <priority>')
  .description('set the order pool workers claim an experiment in: higher first, then oldest first')
  .action(async (experimentId: string, priority: string) => {
    const running = await startService(config, { http: false });
    try {
      await running.runtime.service.prioritize(experimentId, integer(-1_000_000)(priority), 'set from the CLI');
      console.log(`${experimentId}: priority ${priority}`);
    } finally {
      await running.close();
    }
  });

program
  .command('workers')
  .description('who runs what: experiments with a lease in force')
  .action(async () => {
    const running = await startService(config, { http: false });
    try {
      const rows = await workersTable(running.runtime.service);
      if (rows.length === 0) console.log('no experiment is leased');
      for (const r of rows) console.log(`${r.workerId}\t${r.experimentId}\t${r.name}\t${r.lifecycle}\tstep ${r.step}\tlease until ${r.expiresAt}`);
    } finally {
      await running.close();
    }
  });

program
  .command('train <experimentId>')
  .description('train (resuming from the stream and the newest valid checkpoint), search, complete')
  .option('--no-http', 'do not serve the API while training')
  .option('--checkpoint-every <n>', 'steps between checkpoints', integer(1), 50)
  .option('--max-steps <n>', 'stop after this many live steps (resume later)', integer(1))
  .option('--strategy <name>', 'search strategy (default: the experiment\'s)', strategy)
  .option('--candidates <k>', 'K candidates fully evaluated (default: the experiment\'s)', integer(1))
  .option('--keep-last <n>', 'retention: keep the newest n checkpoints, or `all` (default 3, or MCTNAS_CHECKPOINT_KEEP_LAST)', keepLast)
  .option('--keep-every <k>', 'retention: also keep every checkpoint whose step + 1 is a multiple of k (default none, or MCTNAS_CHECKPOINT_KEEP_EVERY)', integer(1))
  .option('--no-progress', 'no progress bar')
  .action(async (id: string, flags: { http: boolean; checkpointEvery: number; maxSteps?: number; strategy?: StrategyName; candidates?: number; progress: boolean; keepLast?: number | null; keepEvery?: number }) => {
    const running = await startService(config, { http: flags.http });
    try {
      await trainJob(running.runtime.service, config, id, {
        checkpointEvery: flags.checkpointEvery,
        retention: retentionPolicy({
          keepLast: flags.keepLast === undefined ? config.checkpointRetention?.keepLast : flags.keepLast,
          keepEvery: flags.keepEvery ?? config.checkpointRetention?.keepEvery,
        }),
        maxLiveSteps: flags.maxSteps,
        strategy: flags.strategy,
        candidates: flags.candidates,
        progress: flags.progress,
      });
    } finally {
      await running.close();
    }
  });

program
  .command('search <experimentId>')
  .description('run another search strategy on a trained experiment (its final checkpoint)')
  .requiredOption('--strategy <name>', strategyNames.join(' | '), strategy)
  .option('--candidates <k>', 'K candidates fully evaluated', integer(1))
  .action(async (id: string, flags: { strategy: StrategyName; candidates?: number }) => {
    const running = await startService(config, { http: false });
    try {
      await searchJob(running.runtime.service, config, id, flags);
    } finally {
      await running.close();
    }
  });

program
  .command('list')
  .description('list experiments')
  .action(async () => {
    const running = await startService(config, { http: false });
    try {
      for (const e of await running.runtime.index.list()) console.log(`${e.id}  ${e.createdAt.toISOString()}  ${e.name}`);
    } finally {
      await running.close();
    }
  });

program
  .command('inspect <experimentId>')
  .description('status, phase, tree summary, top leaves and search result')
  .option('--top <k>', 'top leaves by mean reward', integer(1), 10)
  .action(async (id: string, flags: { top: number }) => {
    const running = await startService(config, { http: false });
    try {
      await inspectExperiment(running.runtime.service, id, flags.top);
      await printOutcome(running.runtime.service, id, null);
    } finally {
      await running.close();
    }
  });

registerTabularCommand(program);
registerStandaloneCommand(program);
registerCheckpointCommands(program, config);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`error: ${(error as Error).message ?? String(error)}`);
  process.exitCode = 1;
});
