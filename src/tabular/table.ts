/**
 * Tabular NAS benchmarks: a table that gives, for every architecture of a search space, its
 * accuracy after training from scratch (one column per training seed) and optionally its
 * FLOPs and parameters. Loaded from a data file plus a small spec, so any such benchmark plugs
 * in without code. NAS-Bench-Macro is one instance (`nasBenchMacroSpec`).
 *
 * Data file, by extension:
 *  - `.csv`: a header row of column names, then one architecture per row (RFC 4180: quoted
 *    fields, a UTF-8 byte-order mark and CRLF line ends are read as such);
 *  - `.json`: an array of row objects, or an object whose property names are the keys and
 *    whose values are row objects (the NAS-Bench-Macro layout). A column name may address a
 *    nested value with dots: `test_acc.0` is the first element of `test_acc`.
 *
 * Spec (JSON):
 *   {
 *     "name": "nas-bench-macro",
 *     "searchSpace": "nas-bench-macro",          // a preset name, or a full search-space definition
 *     "key": { "separator": "", "ops": ["0", "1", "2"] },      // optional, see below
 *     "columns": { "key": "arch",                // the key column (not used by the JSON object layout)
 *                  "accuracy": ["test_acc.0", "test_acc.1", "test_acc.2"],   // the proxy's columns, one per seed
 *                  "truth": ["test"],                                        // optional: ground truth (default: accuracy)
 *                  "flops": "flops", "params": "params" },                   // optional
 *     "scale": 100                               // optional: accuracies x scale = percent (fractions: 100)
 *   }
 * The search space declares the layers and their ops (and gives the experiment its analytic
 * FLOPs for the FLOPs window); a space of named ops (`{ "type": "named", "name": "conv3x3" }`,
 * examples/cell-6x5) has no cost model, so no FLOPs/params columns and no window. Accuracies
 * are percentages: a table whose accuracies are all <= 1 is refused unless `scale` is given. A key is split by `key.separator` (each character when it is
 * empty) into one token per layer; `key.ops` names the ops of every layer (one list for all
 * layers, or one list per layer) and a token's position in its list is the op index. Defaults:
 * tokens are decimal op indices, separator '' when every token is one character, '-' otherwise.
 *
 * Checks, each failing with a message that names the row: missing columns, keys outside the
 * declared space, duplicate keys, non-numeric or out-of-range accuracies, FLOPs/params that
 * disagree with the space's analytic values (the spec then describes other networks), and
 * architectures of the space with no row (the oracle must be able to answer for any path).
 * The ground truth of an architecture is the mean of its truth columns (default: the accuracy
 * columns).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { DomainError, hasCode } from '../kernel/domain-error.js';
import { issueField } from '../kernel/parse.js';
import { presetSpace } from '../search-space/presets.js';
import { SearchSpace } from '../search-space/search-space.js';
import type { AnySpaceDefinition, Architecture } from '../search-space/definition.js';

/** A table larger than this cannot list every architecture; its spec is wrong. */
const MAX_ARCHITECTURES = 20_000_000;

export const tableSpecSchema = z
  .object({
    name: z.string().min(1).max(200),
    searchSpace: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    key: z
      .object({
        separator: z.string().max(8).optional(),
        ops: z.union([z.array(z.string().min(1)).min(1), z.array(z.array(z.string().min(1)).min(1)).min(1)]).optional(),
      })
      .strict()
      .optional(),
    columns: z
      .object({
        key: z.string().min(1).optional(),
        /** the proxy's columns: one accuracy per training run (the oracle's losses and full validations read them) */
        accuracy: z.array(z.string().min(1)).min(1),
        /** ground-truth columns (their mean); default: the accuracy columns */
        truth: z.array(z.string().min(1)).min(1).optional(),
        flops: z.string().min(1).optional(),
        params: z.string().min(1).optional(),
      })
      .strict(),
    /** accuracies are multiplied by this to give percentages (100 for fractions); absent: they are percentages already */
    scale: z.number().positive().max(1e6).optional(),
  })
  .strict();
export type TableSpec = z.infer<typeof tableSpecSchema>;

export const nasBenchMacroSpec: TableSpec = {
  name: 'nas-bench-macro',
  searchSpace: 'nas-bench-macro',
  columns: { accuracy: ['test_acc.0', 'test_acc.1', 'test_acc.2'], flops: 'flops', params: 'params' },
};

/** A spec that is not valid; `field` is the dotted path of the first problem. */
function tableSpecError(field: string, reason: string): DomainError {
  return new DomainError('invalid', 'TableSpecError', `${reason} (table spec)`, field);
}

/** A table that does not fit its spec; `row` names the offending row (null: the whole table). */
function tableError(source: string, row: string | null, reason: string): DomainError {
  return new DomainError('invalid', 'TableError', `${source}${row ? `, ${row}` : ''}: ${reason}`);
}

/** Validates a parsed spec; throws a `TableSpecError` naming the field. */
export function parseTableSpec(raw: unknown): TableSpec {
  const parsed = tableSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw tableSpecError(issue.path.length > 0 ? issueField(issue) : '(spec)', issue.message);
  }
  return parsed.data;
}

export function readTableSpec(path: string): TableSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw tableSpecError('(file)', `cannot read ${path}: ${(error as Error).message}`);
  }
  return parseTableSpec(raw);
}

/**
 * The benchmark in memory, indexed by architecture: every architecture of the space has
 * exactly one row, stored at its mixed-radix code.
 */
export class AccuracyTable {
  readonly size: number;
  /** accuracy columns (training seeds) */
  readonly seeds: number;
  private readonly radix: readonly number[];
  /** truths sorted descending, for ranks */
  private readonly sortedTruth: Float64Array;

  constructor(
    readonly name: string,
    readonly space: SearchSpace,
    /** how an experiment request names the space: the preset name or the full definition */
    readonly spaceRequest: { preset: string } | AnySpaceDefinition,
    private readonly keys: readonly string[],
    private readonly accuracies: Float64Array,
    private readonly truths: Float64Array,
  ) {
    this.size = keys.length;
    this.seeds = accuracies.length / keys.length;
    this.radix = radixOf(space.opCounts);
    this.sortedTruth = truths.slice().sort().reverse();
  }

  /** Row index of an architecture (its mixed-radix code); throws outside the space. */
  rowOf(architecture: Architecture): number {
    return codeOf(this.space.validateArchitecture(architecture), this.radix);
  }

  architectureAt(row: number): number[] {
    return this.space.opCounts.map((count, l) => Math.floor(row / this.radix[l]!) % count);
  }

  /** The architecture's key as the table writes it. */
  key(architecture: Architecture): string {
    return this.keys[this.rowOf(architecture)]!;
  }

  /** Accuracy (percent) of the training run `seed` (an accuracy column). */
  accuracy(architecture: Architecture, seed: number): number {
    if (!Number.isInteger(seed) || seed < 0 || seed >= this.seeds) throw new RangeError(`seed must be an accuracy column 0..${this.seeds - 1}, got ${seed}`);
    return this.accuracies[this.rowOf(architecture) * this.seeds + seed]!;
  }

  /** Ground truth: the mean accuracy over the seeds. */
  truth(architecture: Architecture): number {
    return this.truths[this.rowOf(architecture)]!;
  }

  truthAt(row: number): number {
    return this.truths[row]!;
  }

  /** 1 + the number of architectures with a strictly higher ground truth (ties share a rank). */
  rank(architecture: Architecture): number {
    const t = this.truth(architecture);
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortedTruth[mid]! > t) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  /**
   * An architecture with the highest ground truth (the first in row order on a tie), as the
   * table lists it: not canonicalized, since a table need not give equivalent networks equal
   * accuracies.
   */
  best(): number[] {
    let best = 0;
    for (let row = 1; row < this.size; row++) if (this.truths[row]! > this.truths[best]!) best = row;
    return this.architectureAt(best);
  }
}

/** Loads `dataPath` as described by `spec`; throws a `TableSpecError` or a `TableError`. */
export function loadTable(dataPath: string, spec: TableSpec): AccuracyTable {
  const { space, request } = spaceOf(spec);
  if (!space.hasCosts) {
    for (const column of ['flops', 'params'] as const) {
      if (spec.columns[column] !== undefined) throw tableSpecError(`columns.${column}`, `names a ${column} column, but the search space '${space.definition.name}' has named ops without a cost model: it has no ${column} to check the column against`);
    }
  }
  const decode = keyDecoder(space, spec.key);
  const rows = readRows(dataPath, spec);
  const source = dataPath;
  if (space.size > MAX_ARCHITECTURES || rows.length < space.size) {
    throw tableError(source, null, `has ${rows.length} rows but the search space has ${space.size} architectures: a tabular benchmark must list every one`);
  }
  const radix = radixOf(space.opCounts);
  const seeds = spec.columns.accuracy.length;
  const truthColumns = spec.columns.truth ?? spec.columns.accuracy;
  const scale = spec.scale ?? 1;
  let largest = Number.NEGATIVE_INFINITY;
  const keys = new Array<string>(space.size);
  const labels = new Array<string | undefined>(space.size);
  const accuracies = new Float64Array(space.size * seeds);
  const truths = new Float64Array(space.size);
  for (const row of rows) {
    const fail = (reason: string): never => {
      throw tableError(source, row.label, reason);
    };
    const key = row.key ?? fail(`has no key column '${spec.columns.key}'`);
    const decoded = decode(key);
    if (typeof decoded === 'string') fail(decoded);
    const architecture = decoded as number[];
    const code = codeOf(architecture, radix);
    if (labels[code] !== undefined) fail(`duplicate key "${key}" (the same architecture as ${labels[code]})`);
    labels[code] = row.label;
    keys[code] = key;
    const percent = (column: string, what: string): number => {
      const raw = numberIn(row, column, fail);
      largest = Math.max(largest, raw);
      const value = raw * scale;
      if (value < 0 || value > 100) fail(`${what} column '${column}' is ${raw}${spec.scale ? ` (x ${scale} = ${value})` : ''}: accuracies are percentages in [0, 100]`);
      return value;
    };
    spec.columns.accuracy.forEach((column, s) => {
      accuracies[code * seeds + s] = percent(column, 'accuracy');
    });
    truths[code] = truthColumns.reduce((sum, column) => sum + percent(column, 'truth'), 0) / truthColumns.length;
    const costs = [
      ['flops', spec.columns.flops, space.flops(architecture)],
      ['params', spec.columns.params, space.params(architecture)],
    ] as const;
    for (const [what, column, analytic] of costs) {
      if (column === undefined) continue;
      const value = numberIn(row, column, fail);
      if (Math.abs(value - analytic) > 1e-6 * Math.max(1, analytic)) {
        fail(`${what} column '${column}' is ${value}, the search space gives ${analytic} for key "${key}": the spec's searchSpace does not describe this table's networks`);
      }
    }
  }
  if (spec.scale === undefined && largest <= 1) {
    throw tableError(source, null, `every accuracy is at most 1 (largest ${largest}): these look like fractions, the table needs percentages; give "scale": 100 in the spec if they are fractions (or "scale": 1 if they really are percentages of at most 1 %)`);
  }
  const missing = labels.findIndex((label) => label === undefined);
  if (missing >= 0) {
    const example = radix.map((r, l) => Math.floor(missing / r) % space.opCounts[l]!);
    const absent = labels.filter((label) => label === undefined).length;
    throw tableError(source, null, `has no row for architecture [${example.join(',')}] (${absent} of ${space.size} architectures missing): a tabular benchmark must list every one`);
  }
  return new AccuracyTable(spec.name, space, request, keys, accuracies, truths);
}

export function loadNasBenchMacro(path: string): AccuracyTable {
  return loadTable(path, nasBenchMacroSpec);
}

function spaceOf(spec: TableSpec): { space: SearchSpace; request: { preset: string } | AnySpaceDefinition } {
  try {
    if (typeof spec.searchSpace === 'string') return { space: presetSpace(spec.searchSpace), request: { preset: spec.searchSpace } };
    const space = SearchSpace.fromDefinition(spec.searchSpace);
    return { space, request: space.definition };
  } catch (error) {
    if (!hasCode(error, 'SearchSpaceError')) throw error;
    const field = error.field !== undefined && error.field !== 'preset' ? `searchSpace.${error.field}` : 'searchSpace';
    // The space's message starts with its own field; the table spec names it from its root.
    const detail = error.field !== undefined ? error.message.slice(error.field.length + 2) : error.message;
    throw tableSpecError(field, detail);
  }
}

/** Key string -> architecture, or the reason it is not one. */
function keyDecoder(space: SearchSpace, key: TableSpec['key']): (text: string) => number[] | string {
  const lists = key?.ops;
  const perLayer = lists !== undefined && typeof lists[0] !== 'string';
  if (perLayer && lists.length !== space.numLayers) throw tableSpecError('key.ops', `has ${lists.length} layers, the search space has ${space.numLayers}`);
  const tokens = space.opCounts.map((count, l) => {
    const names = lists === undefined ? (space.hasCosts ? Array.from({ length: count }, (_, op) => String(op)) : space.definition.layers[l]!.ops.map((_, op) => space.opLabel(l, op))) : perLayer ? (lists as string[][])[l]! : (lists as string[]);
    const field = perLayer ? `key.ops.${l}` : 'key.ops';
    if (names.length !== count) throw tableSpecError(field, `names ${names.length} ops, layer ${l} of the search space has ${count}`);
    if (new Set(names).size !== names.length) throw tableSpecError(field, 'names an op twice');
    return new Map(names.map((name, op) => [name, op]));
  });
  const singleCharacter = tokens.every((map) => [...map.keys()].every((name) => name.length === 1));
  const separator = key?.separator ?? (singleCharacter ? '' : '-');
  if (separator === '' && !singleCharacter) throw tableSpecError('key.separator', 'is empty, so every op token must be one character');
  return (text) => {
    const parts = separator === '' ? [...text] : text.split(separator);
    if (parts.length !== space.numLayers) return `key "${text}" has ${parts.length} op tokens, the search space has ${space.numLayers} layers`;
    const architecture: number[] = [];
    for (let l = 0; l < parts.length; l++) {
      const op = tokens[l]!.get(parts[l]!);
      if (op === undefined) return `key "${text}": "${parts[l]}" is not an op of layer ${l} (one of ${[...tokens[l]!.keys()].join(', ')})`;
      architecture.push(op);
    }
    return architecture;
  };
}

interface RawRow {
  /** how error messages name the row */
  readonly label: string;
  readonly key: string | undefined;
  readonly value: (column: string) => unknown;
}

function readRows(path: string, spec: TableSpec): RawRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw tableError(path, null, `cannot read the table: ${(error as Error).message}`);
  }
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return csvRows(path, text, spec);
  if (extension === '.json') return jsonRows(path, text, spec);
  throw tableError(path, null, `unknown table format '${extension}': use .csv or .json`);
}

function csvRows(path: string, text: string, spec: TableSpec): RawRow[] {
  // RFC 4180 through csv-parse: quoted fields (commas, quotes, line breaks inside), a UTF-8
  // BOM, CRLF or LF line ends. Rows are named by the line they start on.
  const ends: number[] = [];
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      relax_column_count: true,
      on_record: (record: string[], context: { lines: number }) => {
        ends.push(context.lines);
        return record;
      },
    });
  } catch (error) {
    throw tableError(path, null, `is not valid CSV: ${(error as Error).message}`);
  }
  const blank = (record: readonly string[]): boolean => record.length === 1 && record[0] === '';
  while (records.length > 0 && blank(records[records.length - 1]!)) records.pop();
  if (records.length === 0) throw tableError(path, null, 'is empty');
  const lineOf = (i: number): string => `line ${i === 0 ? 1 : ends[i - 1]! + 1}`;
  const header = records[0]!;
  const keyColumn = spec.columns.key ?? throwSpec('columns.key', 'a CSV table needs its key column named');
  const required = [keyColumn, ...new Set([...spec.columns.accuracy, ...(spec.columns.truth ?? [])]), spec.columns.flops, spec.columns.params].filter((c): c is string => c !== undefined);
  for (const column of required) {
    if (!header.includes(column)) throw tableError(path, 'line 1 (header)', `has no column '${column}' (columns: ${header.join(', ')})`);
  }
  const index = new Map(header.map((name, i) => [name, i]));
  return records.slice(1).map((cells, i) => {
    const label = lineOf(i + 1);
    if (cells.length !== header.length) throw tableError(path, label, `has ${cells.length} fields, the header has ${header.length}`);
    return { label, key: cells[index.get(keyColumn)!], value: (column) => cells[index.get(column)!] };
  });
}

function jsonRows(path: string, text: string, spec: TableSpec): RawRow[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw tableError(path, null, `is not valid JSON: ${(error as Error).message}`);
  }
  const rowObject = (label: string, value: unknown): ((column: string) => unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw tableError(path, label, 'is not an object of columns');
    return (column) => lookup(value as Record<string, unknown>, column);
  };
  if (Array.isArray(data)) {
    const keyColumn = spec.columns.key ?? throwSpec('columns.key', 'a JSON array table needs its key column named');
    return data.map((item, i) => {
      const label = `row [${i}]`;
      const value = rowObject(label, item);
      const key = value(keyColumn);
      if (key !== undefined && typeof key !== 'string') throw tableError(path, label, `key column '${keyColumn}' must be a string, got ${JSON.stringify(key)}`);
      return { label, key, value };
    });
  }
  if (data !== null && typeof data === 'object') {
    return Object.entries(data).map(([key, item]) => {
      const label = `row "${key}"`;
      return { label, key, value: rowObject(label, item) };
    });
  }
  throw tableError(path, null, 'must be an array of rows or an object of rows keyed by architecture');
}

/** `a.b.0` addresses nested values; an exact property name wins. */
function lookup(row: Record<string, unknown>, column: string): unknown {
  if (Object.hasOwn(row, column)) return row[column];
  let node: unknown = row;
  for (const part of column.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function numberIn(row: RawRow, column: string, fail: (reason: string) => never): number {
  const raw = row.value(column);
  if (raw === undefined) fail(`has no column '${column}'`);
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) fail(`column '${column}' is not a number: ${JSON.stringify(raw)}`);
  return value;
}

function throwSpec(field: string, reason: string): never {
  throw tableSpecError(field, reason);
}

/** Place values of the mixed-radix code: the last layer varies fastest. */
function radixOf(opCounts: readonly number[]): number[] {
  const radix = new Array<number>(opCounts.length);
  let r = 1;
  for (let l = opCounts.length - 1; l >= 0; l--) {
    radix[l] = r;
    r *= opCounts[l]!;
  }
  return radix;
}

function codeOf(architecture: Architecture, radix: readonly number[]): number {
  let code = 0;
  for (let l = 0; l < architecture.length; l++) code += architecture[l]! * radix[l]!;
  return code;
}
