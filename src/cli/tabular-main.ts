/**
 * Stand-alone entry for `tabular` until the main CLI (src/cli/main.ts) registers it:
 *   node dist/src/cli/tabular-main.js tabular --help
 */
import { Command } from 'commander';
import { registerTabularCommand } from './tabular.js';

const program = new Command('mctnas');
registerTabularCommand(program);
await program.parseAsync(process.argv);
