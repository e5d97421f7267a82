import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs as dist/src/tabular/paths.js). */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * The shared data folder: `MCTNAS_SHARED_DATA`, else `shared/data` beside the repository. The
 * benchmark tables are read from there, never copied into the repository.
 */
export function sharedDataDir(env: Record<string, string | undefined> = process.env): string {
  return env.MCTNAS_SHARED_DATA || resolve(repoRoot, '..', 'shared', 'data');
}

export function nasBenchMacroPath(sharedData: string = sharedDataDir()): string {
  return join(sharedData, 'nas-bench-macro', 'nas-bench-macro_cifar10.json');
}
