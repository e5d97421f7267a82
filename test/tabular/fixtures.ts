/** Small tables on a tiny search space, written to a temporary folder for the loader tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchSpace } from '../../src/search-space/search-space.js';
import type { SearchSpaceDefinition } from '../../src/search-space/definition.js';
import type { TableSpec } from '../../src/tabular/table.js';

/** 2 x 3 = 6 architectures: layer 0 {id, k3e3}, layer 1 (stride 2) {id, k3e3, k5e6}. */
export const tinyDefinition: SearchSpaceDefinition = {
  name: 'tiny',
  input: { size: 8, channels: 3 },
  stem: { channels: 8, kernel: 3, stride: 1 },
  layers: [
    { channels: 8, stride: 1, ops: [{ type: 'identity' }, { type: 'mbconv', kernel: 3, expansion: 3, se: false }] },
    { channels: 16, stride: 2, ops: [{ type: 'identity' }, { type: 'mbconv', kernel: 3, expansion: 3, se: false }, { type: 'mbconv', kernel: 5, expansion: 6, se: false }] },
  ],
  head: { channels: 32, classes: 10 },
};
export const tinySpace = SearchSpace.fromDefinition(tinyDefinition);

export const tinySpec: TableSpec = {
  name: 'tiny-bench',
  searchSpace: tinyDefinition,
  key: { separator: '-', ops: [['id', 'k3'], ['id', 'k3', 'k5']] },
  columns: { key: 'arch', accuracy: ['run1', 'run2'], flops: 'flops' },
};

/** Every architecture of the tiny space: key, two accuracies (higher for bigger ops), analytic FLOPs. */
export function tinyRows(): { arch: string; run1: number; run2: number; flops: number }[] {
  const names = [['id', 'k3'], ['id', 'k3', 'k5']];
  const rows = [];
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 3; b++) {
      rows.push({ arch: `${names[0]![a]}-${names[1]![b]}`, run1: 80 + 2 * a + 3 * b, run2: 81 + 2 * a + 3 * b, flops: tinySpace.flops([a, b]) });
    }
  }
  return rows;
}

export function csvOf(rows: readonly Record<string, unknown>[], columns = Object.keys(rows[0]!)): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => String(r[c] ?? '')).join(','))].join('\n') + '\n';
}

const dir = mkdtempSync(join(tmpdir(), 'mctnas-tabular-'));
let files = 0;

/** Writes `content` to a fresh temporary file with this extension; returns its path. */
export function tempFile(extension: string, content: string): string {
  const path = join(dir, `table-${files++}${extension}`);
  writeFileSync(path, content);
  return path;
}
