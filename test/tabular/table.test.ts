import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/kernel/domain-error.js';
import { loadNasBenchMacro, loadTable, parseTableSpec, type TableSpec } from '../../src/tabular/table.js';
import { nasBenchMacroJson } from '../support/paths.js';
import { csvOf, tempFile, tinyDefinition, tinyRows, tinySpec } from './fixtures.js';

/** Asserts that loading fails with a TableError naming `row` and mentioning every `words`. */
function rejects(load: () => unknown, row: string | null, ...words: string[]): void {
  assert.throws(load, (error: unknown) => {
    assert.ok(hasCode(error, 'TableError'), `expected a TableError, got ${String(error)}`);
    // the message reads `<file>, <row>: <reason>`, or `<file>: <reason>` for the whole table
    const where = error.message.slice(0, error.message.indexOf(': '));
    assert.equal(where.includes(', ') ? where.slice(where.indexOf(', ') + 2) : null, row);
    for (const word of words) assert.ok(error.message.includes(word), `'${error.message}' mentions '${word}'`);
    return true;
  });
}

describe('NAS-Bench-Macro table', { skip: !existsSync(nasBenchMacroJson) && 'benchmark table not found' }, () => {
  it('loads all 6561 architectures with three seeds; the ground truth is the mean accuracy and 22212220 ranks first', () => {
    const table = loadNasBenchMacro(nasBenchMacroJson);
    assert.equal(table.size, 6561);
    assert.equal(table.seeds, 3);
    const best = [2, 2, 2, 1, 2, 2, 2, 0];
    assert.equal(table.key(best), '22212220');
    assert.ok(Math.abs(table.truth(best) - 93.1267) < 1e-4);
    assert.equal(table.rank(best), 1);
    assert.equal(table.rank([2, 2, 2, 1, 2, 2, 0, 2]), 1, 'the equivalent network 22212202 shares rank 1');
    assert.equal(table.truth(table.best()), table.truth(best), 'best() has the highest ground truth');
    assert.deepEqual(table.best(), [2, 2, 2, 1, 2, 2, 0, 2], 'the first of the two in row order');
    assert.equal(table.accuracy(best, 1), 93.32999420166016);
    assert.equal(table.rowOf(table.architectureAt(1234)), 1234);
  });
});

describe('generic tables (CSV and JSON with a spec)', () => {
  it('loads a CSV table with custom op tokens and checks its FLOPs against the search space', () => {
    const table = loadTable(tempFile('.csv', csvOf(tinyRows())), tinySpec);
    assert.equal(table.size, 6);
    assert.equal(table.seeds, 2);
    assert.equal(table.key([1, 2]), 'k3-k5');
    assert.equal(table.truth([1, 2]), (88 + 89) / 2);
    assert.equal(table.rank([1, 2]), 1);
    assert.equal(table.rank([0, 0]), 6);
  });

  it('loads a JSON array of rows and a JSON object keyed by architecture with nested columns', () => {
    const rows = tinyRows();
    const array = loadTable(tempFile('.json', JSON.stringify(rows)), tinySpec);
    assert.equal(array.truth([1, 1]), (85 + 86) / 2);
    const keyed = Object.fromEntries(rows.map((r) => [r.arch, { acc: [r.run1, r.run2] }]));
    const spec: TableSpec = { ...tinySpec, columns: { accuracy: ['acc.0', 'acc.1'] } };
    assert.equal(loadTable(tempFile('.json', JSON.stringify(keyed)), spec).truth([1, 1]), (85 + 86) / 2);
  });

  it('names the missing column of the header', () => {
    const rows = tinyRows().map(({ run2: _, ...rest }) => rest);
    rejects(() => loadTable(tempFile('.csv', csvOf(rows)), tinySpec), 'line 1 (header)', "no column 'run2'");
  });

  it('names the row whose key lies outside the declared space', () => {
    const rows = tinyRows();
    rows[3]!.arch = 'k3-k7';
    rejects(() => loadTable(tempFile('.csv', csvOf(rows)), tinySpec), 'line 5', 'k3-k7', '"k7" is not an op of layer 1');
    rows[3]!.arch = 'k3';
    rejects(() => loadTable(tempFile('.csv', csvOf(rows)), tinySpec), 'line 5', 'has 1 op tokens', '2 layers');
  });

  it('names both rows of a duplicate key', () => {
    const rows = tinyRows();
    rows.push({ ...rows[2]! });
    rejects(() => loadTable(tempFile('.csv', csvOf(rows)), tinySpec), 'line 8', `duplicate key "${rows[2]!.arch}"`, 'line 4');
  });

  it('names the row and column of a non-numeric or out-of-range accuracy', () => {
    const csv = csvOf(tinyRows()).replace('id-k3,83,', 'id-k3,n/a,');
    rejects(() => loadTable(tempFile('.csv', csv), tinySpec), 'line 3', "column 'run1' is not a number", 'n/a');
    const rows: Record<string, unknown>[] = tinyRows();
    rows[4]!.run2 = '';
    rejects(() => loadTable(tempFile('.json', JSON.stringify(rows)), tinySpec), 'row [4]', "column 'run2' is not a number");
    rows[4]!.run2 = 140;
    rejects(() => loadTable(tempFile('.json', JSON.stringify(rows)), tinySpec), 'row [4]', "accuracy column 'run2' is 140");
    delete rows[4]!.run2;
    rejects(() => loadTable(tempFile('.json', JSON.stringify(rows)), tinySpec), 'row [4]', "has no column 'run2'");
  });

  it('refuses FLOPs that disagree with the declared space, naming the row', () => {
    const rows = tinyRows();
    rows[1]!.flops += 1000;
    rejects(() => loadTable(tempFile('.csv', csvOf(rows)), tinySpec), 'line 3', "flops column 'flops'", 'does not describe');
  });

  it('refuses a table that misses architectures of its space', () => {
    rejects(() => loadTable(tempFile('.csv', csvOf(tinyRows().slice(1))), tinySpec), null, 'has 5 rows', '6 architectures');
    const rows = tinyRows();
    rows[5] = { ...rows[4]!, arch: rows[4]!.arch };
    rejects(() => loadTable(tempFile('.csv', csvOf(rows)), tinySpec), 'line 7', 'duplicate key');
  });

  it('reads quoted CSV fields: commas, doubled quotes and line breaks inside them', () => {
    const rows = tinyRows().map((r, i) => ({ ...r, note: i === 1 ? '"bigger, ""wider""\nand deeper"' : 'plain' }));
    const csv = csvOf(rows).replace('k3-k5', '"k3-k5"').replace('flops,note', '"flops","note"');
    const table = loadTable(tempFile('.csv', csv), tinySpec);
    assert.equal(table.key([1, 2]), 'k3-k5');
    assert.equal(table.truth([1, 2]), (88 + 89) / 2);
    assert.equal(table.truth([0, 1]), (83 + 84) / 2, 'the row with the multi-line field');
    assert.equal(table.truth([0, 2]), (86 + 87) / 2, 'the row after it');
    // a row after a quoted line break is named by the line it starts on
    const broken = csvOf(rows.map((r) => (r.arch === 'k3-k5' ? { ...r, run2: 'n/a' } : r)));
    rejects(() => loadTable(tempFile('.csv', broken), tinySpec), 'line 8', "column 'run2' is not a number");
  });

  it('reads a UTF-8 byte-order mark and CRLF line ends', () => {
    // the header's first field quoted, so the mark is not mistaken for part of an unquoted name
    const csv = '\ufeff' + csvOf(tinyRows()).replace('arch', '"arch"').replaceAll('\n', '\r\n');
    const table = loadTable(tempFile('.csv', csv), tinySpec);
    assert.equal(table.size, 6);
    assert.equal(table.key([0, 0]), 'id-id');
    assert.equal(table.truth([1, 2]), (88 + 89) / 2, 'the last column carries no \\r');
  });

  it('refuses an unclosed quote and rows with the wrong number of fields', () => {
    rejects(() => loadTable(tempFile('.csv', csvOf(tinyRows()).replace('k3-k5', '"k3-k5')), tinySpec), null, 'not valid CSV', 'Quote Not Closed');
    rejects(() => loadTable(tempFile('.csv', csvOf(tinyRows()).replace(/\n(id-k3),/, '\n$1,0,')), tinySpec), 'line 3', 'has 5 fields', 'header has 4');
  });

  it('rejects a bad spec naming the field', () => {
    const field = (raw: unknown, load = false) => {
      try {
        const spec = parseTableSpec(raw);
        if (load) loadTable(tempFile('.csv', csvOf(tinyRows())), spec);
      } catch (error) {
        assert.ok(hasCode(error, 'TableSpecError'), String(error));
        return error.field;
      }
      assert.fail('the spec was accepted');
    };
    assert.equal(field({ ...tinySpec, columns: { key: 'arch', accuracy: [] } }), 'columns.accuracy');
    assert.equal(field({ ...tinySpec, extra: 1 }), '(spec)');
    assert.equal(field({ ...tinySpec, key: { ops: [['id', 'k3'], ['id', 'k3']] } }, true), 'key.ops.1');
    assert.equal(field({ ...tinySpec, key: { ops: [['id', 'k3']] } }, true), 'key.ops');
    assert.equal(field({ ...tinySpec, key: { separator: '', ops: [['id', 'k3'], ['id', 'k3', 'k5']] } }, true), 'key.separator');
    assert.equal(field({ ...tinySpec, searchSpace: 'no-such-preset' }, true), 'searchSpace');
    assert.equal(field({ ...tinySpec, searchSpace: { ...(tinySpec.searchSpace as object), stem: { channels: 8, kernel: 4, stride: 1 } } }, true), 'searchSpace.stem.kernel');
  });

  it('best() is the true maximum even where identities are not interchangeable', () => {
    // Layers 1 and 2 preserve shape with the same ops, so the space's canonical form moves
    // identities to the end: [0, 0, 1] and [0, 1, 0] are one class. This table does not give
    // them equal accuracies, and [0, 0, 1] is its best row.
    const same = { channels: 16, stride: 1 as const, ops: tinyDefinition.layers[0]!.ops };
    const definition = { ...tinyDefinition, layers: [tinyDefinition.layers[1]!, same, same] };
    const spec: TableSpec = { name: 'identities', searchSpace: definition, key: { separator: '-' }, columns: { key: 'arch', accuracy: ['acc'] } };
    const rows = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) rows.push({ arch: `${a}-${b}-${c}`, acc: a === 0 && b === 0 && c === 1 ? 95 : 80 + a + b });
    const table = loadTable(tempFile('.csv', csvOf(rows)), spec);
    assert.deepEqual(table.space.canonical([0, 0, 1]), [0, 1, 0], 'the two are one class for the space');
    assert.deepEqual(table.best(), [0, 0, 1]);
    assert.equal(table.truth(table.best()), 95);
  });

  it('refuses accuracies given as fractions unless the spec gives a scale', () => {
    const fractions = tinyRows().map((r) => ({ ...r, run1: r.run1 / 100, run2: r.run2 / 100 }));
    rejects(() => loadTable(tempFile('.csv', csvOf(fractions)), tinySpec), null, 'at most 1', 'fractions', '"scale": 100');
    const table = loadTable(tempFile('.csv', csvOf(fractions)), { ...tinySpec, scale: 100 });
    assert.ok(Math.abs(table.truth([1, 2]) - (88 + 89) / 2) < 1e-9);
    assert.ok(Math.abs(table.accuracy([1, 2], 0) - 88) < 1e-9);
    // a scale that leaves values above 100 names the row and the scaled value
    rejects(() => loadTable(tempFile('.csv', csvOf(tinyRows())), { ...tinySpec, scale: 100 }), 'line 2', "accuracy column 'run1' is 80 (x 100 = 8000)");
  });

  it('reads the ground truth from its own columns when the spec names them', () => {
    const rows = tinyRows().map((r, i) => ({ ...r, test: 70 + i }));
    const table = loadTable(tempFile('.csv', csvOf(rows)), { ...tinySpec, columns: { ...tinySpec.columns, truth: ['test'] } });
    assert.equal(table.truth([0, 0]), 70, 'the truth column, not the mean of run1 and run2');
    assert.equal(table.truth([1, 2]), 75);
    assert.equal(table.accuracy([1, 2], 1), 89, 'the proxy still reads the accuracy columns');
    assert.deepEqual(table.best(), [1, 2]);
    rejects(() => loadTable(tempFile('.csv', csvOf(tinyRows())), { ...tinySpec, columns: { ...tinySpec.columns, truth: ['test'] } }), 'line 1 (header)', "no column 'test'");
  });
});

