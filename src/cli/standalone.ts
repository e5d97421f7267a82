/**
 * `mctnas standalone`: stand-alone ground truth for a search space (src/standalone/): a seeded
 * sample of architectures, each trained from scratch with the experiment preset's data and
 * training settings, written as a table (CSV + spec JSON) that the ranking analysis and the
 * ablation bench read. Resumable: run it again after an interruption and finished networks are
 * reused (one JSON per network under `<out>/runs/`).
 */
import { gracefulStop } from './graceful-stop.js';
import type { Command } from 'commander';
import { presetRequest } from '../experiments/presets.js';
import { toExperimentCreated } from '../experiments/experiment-request.js';
import { trainStandaloneSample, writeStandaloneSettings, writeStandaloneTable } from '../standalone/standalone.js';
import { integer } from './arguments.js';

export function registerStandaloneCommand(program: Command): void {
  program
    .command('standalone')
    .description('train a seeded sample of architectures from scratch and write their validation accuracies as a table')
    .option('--preset <name>', 'experiment preset giving the space, data and training settings', 'demo')
    .option('--count <n>', 'architectures sampled', integer(1), 24)
    .option('--steps <n>', 'SGD steps per network (cosine schedule over them)', integer(1), 300)
    .option('--sample-seed <n>', 'which architectures are drawn', integer(0), 0)
    .option('--training-seed <n>', 'initialisation, data order and augmentation', integer(0), 0)
    .option('--split-seed <n>', 'which training images are held out for validation', integer(0), 0)
    .option('--validation-per-class <n>', 'validation images held out per class (default: the preset\'s)', integer(1))
    .option('--out <dir>', 'output folder (table + per-network runs)', 'standalone')
    .option('--name <name>', 'table name (file stem)', 'standalone')
    .option('--data-dir <dir>', 'dataset location for the cifar10 / imagenet presets')
    .action(async (flags: { preset: string; count: number; steps: number; sampleSeed: number; trainingSeed: number; splitSeed: number; out: string; name: string; dataDir?: string; validationPerClass?: number }) => {
      const request = presetRequest(flags.preset, { dataDir: flags.dataDir });
      const training = { ...request.training, ...(flags.validationPerClass !== undefined && { validationPerClass: flags.validationPerClass }) };
      const experiment = toExperimentCreated({ ...request, training });
      const settings = { experiment, count: flags.count, steps: flags.steps, sampleSeed: flags.sampleSeed, trainingSeed: flags.trainingSeed, splitSeed: flags.splitSeed };
      writeStandaloneSettings(flags.out, flags.name, settings);
      const stop = gracefulStop('\nstopping after the current network (Ctrl-C again to stop at once)...', ['SIGINT']);
      const started = performance.now();
      const rows = await trainStandaloneSample(settings, flags.out, {
        signal: stop.signal,
        log: (line) => console.error(line),
        onNetwork: (p) =>
          console.log(
            `[${p.index + 1}/${p.count}] ${p.key}  top-1 ${p.row.top1.toFixed(2)}%  loss ${p.row.loss.toFixed(4)}  ${p.reused ? '(reused)' : `${p.row.seconds.toFixed(0)} s`}  elapsed ${((performance.now() - started) / 1000).toFixed(0)} s`,
          ),
      });
      stop.release();
      if (rows.length < flags.count) {
        console.log(`stopped after ${rows.length}/${flags.count} networks: run the same command again to continue`);
        return;
      }
      const { csv, spec } = writeStandaloneTable(flags.out, flags.name, settings, rows);
      const top1 = rows.map((r) => r.top1);
      console.log(`${rows.length} networks: top-1 ${Math.min(...top1).toFixed(2)}–${Math.max(...top1).toFixed(2)}%; table ${csv}, spec ${spec}`);
    });
}
