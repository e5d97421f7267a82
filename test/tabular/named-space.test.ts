/**
 * Tabular mode for any table (issue #10, point 11): the example in examples/cell-6x5 (a cell of
 * 6 edges x 5 named ops, a synthetic table written by its generator) loads with its spec, has no
 * cost model, refuses a FLOPs window, and runs end to end through the real commands.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryEventStore } from '../../src/events/memory-event-store.js';
import { toExperimentCreated } from '../../src/experiments/experiment-request.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { hasCode } from '../../src/kernel/domain-error.js';
import { SearchSpace } from '../../src/search-space/search-space.js';
import { createOracleExperiment, oracleExperimentRequest, runOracleExperiment } from '../../src/tabular/oracle-experiment.js';
import { loadTable, readTableSpec, type TableSpec } from '../../src/tabular/table.js';
import { withCode } from '../support/errors.js';
import { repoRoot } from '../support/paths.js';
import { csvOf, tempFile } from './fixtures.js';

const example = (file: string) => join(repoRoot, 'examples/cell-6x5', file);
const tablePath = join(mkdtempSync(join(tmpdir(), 'mctnas-cell-')), 'table.csv');
execFileSync(process.execPath, [example('make-table.mjs'), tablePath]);
const spec = readTableSpec(example('spec.json'));

describe('tabular mode for any table: the cell-6x5 example', () => {
  it('loads with its spec: named ops, proxy columns as fractions with scale 100, a separate ground-truth column', () => {
    const table = loadTable(tablePath, spec);
    assert.equal(table.size, 5 ** 6);
    assert.equal(table.seeds, 3);
    assert.equal(table.space.hasCosts, false);
    assert.equal(table.space.describe([3, 3, 3, 3, 3, 3]), 'conv3x3 conv3x3 conv3x3 conv3x3 conv3x3 conv3x3');
    assert.equal(table.key([0, 1, 2, 3, 4, 0]), 'none-skip-conv1x1-conv3x3-avgpool-none');
    // The generator's first rows, by hand: none-none-none-none-none-none reads 0.49114 ... 0.49481 (test).
    assert.ok(Math.abs(table.accuracy([0, 0, 0, 0, 0, 0], 0) - 49.114) < 1e-9);
    assert.ok(Math.abs(table.truth([0, 0, 0, 0, 0, 0]) - 49.481) < 1e-9, 'the truth is the test column, not the mean of the valid ones');
    let max = -1;
    for (let row = 0; row < table.size; row++) max = Math.max(max, table.truthAt(row));
    assert.equal(table.truth(table.best()), max);
    assert.equal(table.rank(table.best()), 1);
    assert.throws(() => table.space.network, withCode('SearchSpaceError'));
  });

  it('refuses a FLOPs or params column on named ops, naming the field', () => {
    const withFlops: TableSpec = { ...spec, columns: { ...spec.columns, flops: 'valid_0' } };
    assert.throws(() => loadTable(tablePath, withFlops), (e: unknown) => hasCode(e, 'TableSpecError') && e.field === 'columns.flops' && /without a cost model/.test(e.message));
  });

  it('refuses a FLOPs window (training or search) and a dataset other than a table', () => {
    const table = loadTable(tablePath, spec);
    const request = oracleExperimentRequest(table, { schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 10, mctSteps: 10 }, seed: 0 });
    const refused = (change: object, field: string, words: RegExp) =>
      assert.throws(() => toExperimentCreated({ ...request, ...change }), (e: unknown) => hasCode(e, 'ExperimentRequestError') && e.field === field && words.test(e.message));
    refused({ flopsWindow: { min: 0, max: 1 } }, 'flopsWindow', /named ops without FLOPs/);
    refused({ search: { ...request.search, flopsWindow: { min: 0, max: 1 } } }, 'search.flopsWindow', /named ops without FLOPs/);
    refused({ dataset: { kind: 'cifar10' } }, 'dataset', /only a tabular benchmark/);
    assert.doesNotThrow(() => toExperimentCreated(request));
  });

  it('a space mixing named ops with MBConv ops is refused, naming the op', () => {
    const mixed = { name: 'mixed', layers: [{ ops: [{ type: 'named', name: 'a' }, { type: 'identity' }] }] };
    assert.throws(() => SearchSpace.fromDefinition(mixed), (e: unknown) => hasCode(e, 'SearchSpaceError') && e.field === 'layers.0.ops.1.type' && /all named or none/.test(e.message));
    const twice = { name: 'twice', layers: [{ ops: [{ type: 'named', name: 'a' }, { type: 'named', name: 'a' }] }] };
    assert.throws(() => SearchSpace.fromDefinition(twice), (e: unknown) => hasCode(e, 'SearchSpaceError') && e.field === 'layers.0.ops.1');
  });

  it('runs one experiment end to end: training with the oracle, then the hierarchical search', async () => {
    // A small named space keeps this quick: 3 edges x 3 ops, every row listed.
    const ops = ['none', 'skip', 'conv'];
    const small: TableSpec = { name: 'cell-3x3', searchSpace: { name: 'cell-3x3', layers: [0, 1, 2].map(() => ({ ops: ops.map((name) => ({ type: 'named', name })) })) }, key: { separator: '-' }, columns: { key: 'arch', accuracy: ['a', 'b'] } };
    const rows = [];
    for (let code = 0; code < 27; code++) {
      const arch = [Math.floor(code / 9), Math.floor(code / 3) % 3, code % 3];
      const score = 60 + 5 * arch.reduce((s, op) => s + op, 0);
      rows.push({ arch: arch.map((op) => ops[op]).join('-'), a: score, b: score + 1 });
    }
    const table = loadTable(tempFile('.csv', csvOf(rows)), small);
    const store = new MemoryEventStore();
    const service = new ExperimentService(store, new ExperimentProjections(store));
    const id = await createOracleExperiment(service, table, { schedule: { stepsPerEpoch: 10, warmupSteps: 40, treeBuildingSteps: 20, mctSteps: 40 }, seed: 3 });
    const run = await runOracleExperiment(service, table, id, [{ strategy: 'hierarchical', candidates: 5 }]);
    const outcome = run.searches[0]!;
    assert.equal(outcome.evaluated.length, 5);
    assert.ok(outcome.evaluated.every((c) => c.flops === 0 && c.params === 0), 'no cost model: FLOPs and params read 0');
    assert.match(table.key(outcome.best.architecture), /^(none|skip|conv)-(none|skip|conv)-(none|skip|conv)$/);
  });
});
