import { type Command, InvalidArgumentError } from 'commander';
import type { AppConfig } from '../config.js';
import { checkpointInventory } from '../experiments/checkpoint-inventory.js';
import { integer } from './arguments.js';
import { checkpointStoreFor } from './jobs.js';
import { startService } from './service.js';

/** `--keep-last`: a positive integer, or `all` (keep every checkpoint). */
export const keepLast = (text: string): number | null => (text === 'all' ? null : integer(1)(text));

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** `mctnas checkpoints <id> [--verify]`, `mctnas pin <id> <step>`, `mctnas unpin <id> <step>`. */
export function registerCheckpointCommands(program: Command, config: AppConfig): void {
  program
    .command('checkpoints <experimentId>')
    .description('weight checkpoints: step, size, sha256, verified-at, pinned, retained or pruned (and why)')
    .option('--verify', 'read every retained checkpoint now and check its sha256')
    .action(async (id: string, flags: { verify?: boolean }) => {
      const running = await startService(config, { http: false });
      try {
        const view = await running.runtime.service.projections.current(id);
        const inventory = checkpointInventory(view.status);
        const store = checkpointStoreFor(config);
        console.log(`${id}: ${inventory.retained} retained (${mib(inventory.retainedBytes)}), ${inventory.pruned} pruned (${mib(inventory.prunedBytes)} freed); store ${store.root}`);
        if (inventory.failure) console.log(`  FAILING: step ${inventory.failure.step} could not be written (${inventory.failure.failure}): ${inventory.failure.message}`);
        for (const c of inventory.checkpoints) {
          let check = '';
          if (flags.verify && c.retained) {
            const read = await store.readVerified(c.location, c.sha256);
            check = 'bytes' in read ? '  verified now' : `  UNUSABLE: ${read.problem}`;
          }
          const state = c.retained ? `retained${c.pinned ? ', pinned' : ''}` : `pruned (${c.pruned?.reason ?? 'unknown'})`;
          console.log(`  step ${String(c.step).padStart(7)}  epoch ${String(c.epoch).padStart(4)}  ${mib(c.size).padStart(10)}  ${c.sha256.slice(0, 12)}  verified ${c.verifiedAt ?? '-'}  ${state}${check}`);
        }
      } finally {
        await running.close();
      }
    });

  for (const [name, pin] of [['pin', true], ['unpin', false]] as const) {
    program
      .command(`${name} <experimentId> <step>`)
      .description(pin ? 'keep a checkpoint whatever the retention policy says' : 'let the retention policy apply to a pinned checkpoint again')
      .option('--reason <text>', 'recorded with the event', `${name}ned from the CLI`)
      .action(async (id: string, stepText: string, flags: { reason: string }) => {
        const step = Number(stepText);
        if (!Number.isInteger(step) || step < 0) throw new InvalidArgumentError(`step: must be an integer >= 0, got '${stepText}'`);
        const running = await startService(config, { http: false });
        try {
          const service = running.runtime.service;
          const result = pin ? await service.pinCheckpoint(id, step, flags.reason) : await service.unpinCheckpoint(id, step, flags.reason);
          console.log(`${id}: checkpoint of step ${step} ${result.pinned ? 'pinned' : 'not pinned'} (position ${result.position})`);
        } finally {
          await running.close();
        }
      });
  }
}
