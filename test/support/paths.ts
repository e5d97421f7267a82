import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** Repository root (tests run from dist/test/..., so resolve against the compiled file). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The shared data folder that sits beside the repository (overridable for odd layouts). */
export const sharedDataDir = process.env.MCTNAS_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');

export const nasBenchMacroJson = resolve(sharedDataDir, 'nas-bench-macro', 'nas-bench-macro_cifar10.json');
