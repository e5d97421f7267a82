/**
 * A validated search space with its behaviour: architecture keys, validation, analytic
 * FLOPs/params, canonical forms, labels and uniform sampling. Pure: no Nest, TypeORM or tfjs.
 */
import type { z } from 'zod';
import { issueField } from '../kernel/parse.js';
import type { Rng } from '../random/counter-rng.js';
import {
  addCosts,
  DEFAULT_SE,
  headCost,
  hiddenChannels,
  opCost,
  outputSize,
  stemCost,
  type Cost,
  type Shape,
} from './cost.js';
import {
  isNamedSpace,
  namedSpaceDefinitionSchema,
  searchSpaceDefinitionSchema,
  type AnySpaceDefinition,
  type Architecture,
  type NamedSpaceDefinition,
  type OpSpec,
  type SearchSpaceDefinition,
} from './definition.js';
import { architectureError, searchSpaceError } from './errors.js';

function sameOp(a: OpSpec, b: OpSpec): boolean {
  if (a.type === 'identity' || b.type === 'identity') return a.type === b.type;
  return a.kernel === b.kernel && a.expansion === b.expansion && a.se === b.se;
}

function sameOps(a: readonly OpSpec[], b: readonly OpSpec[]): boolean {
  return a.length === b.length && a.every((op, i) => sameOp(op, b[i]!));
}

function label(op: OpSpec): string {
  return op.type === 'identity' ? 'id' : `k${op.kernel}e${op.expansion}${op.se ? '-se' : ''}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return node;
}

/** A definition whose ops are named choices (`{ type: 'named' }`) is read as a named space. */
function looksNamed(raw: unknown): boolean {
  const layers = (raw as { layers?: unknown } | null)?.layers;
  return Array.isArray(layers) && layers.some((layer) => {
    const ops = (layer as { ops?: unknown } | null)?.ops;
    return Array.isArray(ops) && ops.some((op) => (op as { type?: unknown } | null)?.type === 'named');
  });
}

/** Schema errors first (their paths name the field), then the checks a schema cannot express. */
function validateDefinition(raw: unknown): AnySpaceDefinition {
  if (looksNamed(raw)) return validateNamedDefinition(raw);
  return validateNetworkDefinition(raw);
}

/** The first schema issue as a SearchSpaceError naming its field. */
function schemaError(raw: unknown, issues: readonly z.core.$ZodIssue[], note = ''): Error {
  const described = issues.map((issue, n) => {
    const field = issue.path.length === 0 ? 'definition' : issueField(issue);
    // Some zod messages ("Invalid input" for a union of literals) do not show the bad value.
    const got = issue.message === 'Invalid input' ? ` (got ${JSON.stringify(valueAt(raw, issue.path))})` : '';
    return { field, message: issue.message + got + (n === 0 ? note : '') };
  });
  const detail = described.map((issue, n) => (n === 0 ? issue.message : `${issue.field}: ${issue.message}`)).join('; ');
  return searchSpaceError(described[0]!.field, detail);
}

/**
 * Named choices only: every op of every layer `{ type: 'named', name }`, names unique within a
 * layer; no network fields (input, stem, head, channels, stride: the space describes no network).
 */
function validateNamedDefinition(raw: unknown): NamedSpaceDefinition {
  const parsed = namedSpaceDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const unrecognized = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')}: a space of named ops describes no network, so it has no cost model; ops are all named or none is)` : '';
    const mixed = issue.path.includes('ops') && issue.code !== 'unrecognized_keys' ? ' (a space mixes no named op with MBConv or identity ops: all named or none)' : '';
    throw schemaError(raw, [issue], unrecognized + mixed);
  }
  parsed.data.layers.forEach((layer, l) => {
    layer.ops.forEach((op, o) => {
      const twin = layer.ops.findIndex((other) => other.name === op.name);
      if (twin < o) throw searchSpaceError(`layers.${l}.ops.${o}`, `duplicates layers.${l}.ops.${twin} (${op.name})`);
    });
  });
  return parsed.data;
}

function validateNetworkDefinition(raw: unknown): SearchSpaceDefinition {
  const parsed = searchSpaceDefinitionSchema.safeParse(raw);
  if (!parsed.success) throw schemaError(raw, parsed.error.issues);
  const def: SearchSpaceDefinition = parsed.data;
  if (def.stem.kernel % 2 === 0) throw searchSpaceError('stem.kernel', 'must be odd');
  // Every block reads the previous block's channels; an expansion must leave at least one
  // hidden channel.
  let channels = def.stem.channels;
  def.stem.blocks?.forEach((block, b) => {
    if (block.kernel % 2 === 0) throw searchSpaceError(`stem.blocks.${b}.kernel`, 'must be odd');
    if (hiddenChannels(channels, block.expansion) < 1) {
      throw searchSpaceError(
        `stem.blocks.${b}.expansion`,
        `leaves no hidden channel from ${channels} input channels`,
      );
    }
    channels = block.channels;
  });
  def.layers.forEach((layer, l) => {
    layer.ops.forEach((op, o) => {
      const field = `layers.${l}.ops.${o}`;
      if (op.type === 'mbconv') {
        if (op.kernel % 2 === 0) throw searchSpaceError(`${field}.kernel`, 'must be odd');
        if (hiddenChannels(channels, op.expansion) < 1) {
          throw searchSpaceError(`${field}.expansion`, `leaves no hidden channel from ${channels} input channels`);
        }
      }
      const twin = layer.ops.findIndex((other) => sameOp(op, other));
      if (twin < o) throw searchSpaceError(field, `duplicates layers.${l}.ops.${twin} (${label(op)})`);
    });
    channels = layer.channels;
  });
  if (def.stages !== undefined) {
    let expectedStart = 0;
    def.stages.forEach(([start, end], s) => {
      if (start !== expectedStart) {
        throw searchSpaceError(`stages.${s}`, `must start at layer ${expectedStart}, got ${start}`);
      }
      if (end <= start) throw searchSpaceError(`stages.${s}`, `must end after its start ${start}, got ${end}`);
      expectedStart = end;
    });
    if (expectedStart !== def.layers.length) {
      throw searchSpaceError('stages', `end at layer ${expectedStart} but the space has ${def.layers.length} layers`);
    }
  }
  return def;
}

/** The network a definition describes; a `SearchSpaceError` for a space of named choices. */
export function networkDefinition(definition: AnySpaceDefinition): SearchSpaceDefinition {
  if (isNamedSpace(definition)) {
    throw searchSpaceError('layers', `'${definition.name}' is a space of named ops: it describes no network to train or measure (only a tabular benchmark can answer for it)`);
  }
  return definition;
}

export class SearchSpace {
  readonly numLayers: number;
  readonly opCounts: readonly number[];
  /** Stage ranges [start, end); the whole network is one stage when the definition has none. */
  readonly stages: readonly (readonly [number, number])[];
  private readonly inputs: readonly Shape[];
  private readonly costs: readonly (readonly Cost[])[];
  private readonly fixedCost: Cost;
  private readonly labels: readonly (readonly string[])[];
  private readonly firstIdentity: readonly number[];
  /** Layer runs inside which identities may move to the end (see `canonical`). */
  private readonly movableRuns: readonly (readonly number[])[];

  /** False for a space of named choices: no network, so FLOPs and params are not defined (they read 0). */
  readonly hasCosts: boolean;

  private constructor(readonly definition: AnySpaceDefinition) {
    this.numLayers = definition.layers.length;
    this.opCounts = definition.layers.map((layer) => layer.ops.length);
    if (isNamedSpace(definition)) {
      this.hasCosts = false;
      this.inputs = [];
      this.fixedCost = { flops: 0, params: 0 };
      this.costs = definition.layers.map((layer) => layer.ops.map(() => ({ flops: 0, params: 0 })));
      this.stages = [[0, this.numLayers]];
      this.labels = definition.layers.map((layer) => layer.ops.map((op) => op.name));
      this.firstIdentity = definition.layers.map(() => -1);
      this.movableRuns = [];
      return;
    }
    this.hasCosts = true;
    const seConfig = definition.se ?? DEFAULT_SE;
    const stem = stemCost(definition);
    const inputs: Shape[] = [];
    let shape = stem.output;
    for (const layer of definition.layers) {
      inputs.push(shape);
      shape = { channels: layer.channels, size: outputSize(shape.size, layer.stride) };
    }
    this.inputs = inputs;
    this.fixedCost = addCosts(stem.cost, headCost(shape, definition.head));
    this.costs = definition.layers.map((layer, l) =>
      layer.ops.map((op) => opCost(op, inputs[l]!, layer.channels, layer.stride, seConfig)),
    );
    this.stages = definition.stages ?? [[0, this.numLayers]];
    this.labels = definition.layers.map((layer) => layer.ops.map(label));
    this.firstIdentity = definition.layers.map((layer) => layer.ops.findIndex((op) => op.type === 'identity'));
    this.movableRuns = this.findMovableRuns(definition);
  }

  /** The network this space describes (what a supernet is built from); throws for named choices. */
  get network(): SearchSpaceDefinition {
    return networkDefinition(this.definition);
  }

  /** Validates a definition (e.g. user JSON); throws a `SearchSpaceError` naming the field. */
  static fromDefinition(def: unknown): SearchSpace {
    return new SearchSpace(validateDefinition(def));
  }

  /** Number of architectures (keys); rounded to the nearest double past 2^53 — see `sizeBigInt`. */
  get size(): number {
    return Number(this.sizeBigInt());
  }

  sizeBigInt(): bigint {
    return this.opCounts.reduce((product, n) => product * BigInt(n), 1n);
  }

  /** True when layer `l` changes resolution or channels, so its identity is a 1x1 conv. */
  changesShape(layer: number): boolean {
    const spec = this.network.layers[layer]!;
    return spec.stride !== 1 || spec.channels !== this.inputs[layer]!.channels;
  }

  validateArchitecture(arch: unknown): Architecture {
    if (!Array.isArray(arch)) throw architectureError('architecture', 'must be an array of op indices');
    if (arch.length !== this.numLayers) {
      throw architectureError('architecture', `has ${arch.length} layers, expected ${this.numLayers}`);
    }
    arch.forEach((op: unknown, l) => {
      if (typeof op !== 'number' || !Number.isInteger(op)) {
        throw architectureError(`architecture[${l}]`, `must be an integer op index, got ${JSON.stringify(op)}`);
      }
      if (op < 0 || op >= this.opCounts[l]!) {
        throw architectureError(`architecture[${l}]`, `op ${op} is outside 0..${this.opCounts[l]! - 1}`);
      }
    });
    return [...(arch as number[])];
  }

  /** Digit keys (`22212220`) when every layer has at most 10 ops, dash-separated (`3-12-0`) otherwise. */
  encode(arch: Architecture): string {
    return this.validateArchitecture(arch).join(this.usesDigitKeys() ? '' : '-');
  }

  decode(key: string): Architecture {
    if (typeof key !== 'string') throw architectureError('key', 'must be a string');
    const parts = this.usesDigitKeys() ? [...key] : key.split('-');
    const unit = this.usesDigitKeys() ? 'digits' : 'dash-separated op indices';
    if (parts.length !== this.numLayers) {
      throw architectureError('key', `"${key}" has ${parts.length} ${unit}, expected ${this.numLayers}`);
    }
    return parts.map((part, l) => {
      // Decimal without leading zeros, so that every architecture has exactly one key.
      if (!/^(0|[1-9][0-9]*)$/.test(part)) {
        throw architectureError(`key[${l}]`, `"${part}" is not an op index (key "${key}")`);
      }
      const op = Number(part);
      if (op >= this.opCounts[l]!) {
        throw architectureError(`key[${l}]`, `op ${op} is outside 0..${this.opCounts[l]! - 1} (key "${key}")`);
      }
      return op;
    });
  }

  /** Analytic multiply-accumulates (see cost.ts for the conventions); 0 in a space of named ops (`hasCosts`). */
  flops(arch: Architecture): number {
    return this.cost(arch).flops;
  }

  /** Analytic trainable parameters (BatchNorm weight and bias included). */
  params(arch: Architecture): number {
    return this.cost(arch).params;
  }

  /** FLOPs and params of op `op` at layer `layer` alone. */
  opCost(layer: number, op: number): Cost {
    const cost = this.costs[layer]?.[op];
    if (cost === undefined) throw architectureError(`layer ${layer}`, `has no op ${op}`);
    return cost;
  }

  /**
   * The representative of `arch`'s class of identical networks. An identity that preserves
   * shape computes nothing, so inside a run of shape-preserving layers of one stage with the
   * same candidate ops, only the order of the non-identity ops matters: they are packed to the
   * front and the identities moved to the end. A layer that changes resolution or channels
   * (a stage's first layer; ImageNet's 80→96 layer) is a 1x1 conv as identity and stays put.
   * Several identity ops in one layer are the same network: all map to the first.
   */
  canonical(arch: Architecture): Architecture {
    const out = this.validateArchitecture(arch).map((op, l) => (this.isIdentity(l, op) ? this.firstIdentity[l]! : op));
    for (const run of this.movableRuns) {
      const kept = run.map((l) => out[l]!).filter((op, i) => !this.isIdentity(run[i]!, op));
      run.forEach((l, i) => {
        out[l] = i < kept.length ? kept[i]! : this.firstIdentity[l]!;
      });
    }
    return out;
  }

  /** e.g. `id`, `k3e6`, `k5e3-se`. */
  opLabel(layer: number, op: number): string {
    const text = this.labels[layer]?.[op];
    if (text === undefined) throw architectureError(`layer ${layer}`, `has no op ${op}`);
    return text;
  }

  /** Op labels, stages separated by ` | `; `parseArchitectureLabels` reads it back. */
  describe(arch: Architecture): string {
    const valid = this.validateArchitecture(arch);
    return this.stages
      .map(([start, end]) => valid.slice(start, end).map((op, i) => this.labels[start + i]![op]).join(' '))
      .join(' | ');
  }

  /** Uniform over ops, independently per layer. */
  randomArchitecture(rng: Rng): Architecture {
    return this.opCounts.map((n) => rng.nextInt(n));
  }

  /** The op index of `text` at `layer`, or -1. */
  opIndexOfLabel(layer: number, text: string): number {
    return this.labels[layer]?.indexOf(text) ?? -1;
  }

  private usesDigitKeys(): boolean {
    return this.opCounts.every((n) => n <= 10);
  }

  private isIdentity(layer: number, op: number): boolean {
    return this.definition.layers[layer]!.ops[op]!.type === 'identity';
  }

  private cost(arch: Architecture): Cost {
    const valid = this.validateArchitecture(arch);
    let flops = this.fixedCost.flops;
    let params = this.fixedCost.params;
    valid.forEach((op, l) => {
      const c = this.costs[l]![op]!;
      flops += c.flops;
      params += c.params;
    });
    return { flops, params };
  }

  private findMovableRuns(definition: SearchSpaceDefinition): number[][] {
    const runs: number[][] = [];
    const layers = definition.layers;
    for (const [start, end] of this.stages) {
      let run: number[] = [];
      const flush = (): void => {
        if (run.length >= 2 && run.some((l) => this.firstIdentity[l]! >= 0)) runs.push(run);
        run = [];
      };
      for (let l = start; l < end; l++) {
        if (this.changesShape(l)) {
          flush();
          continue;
        }
        if (run.length > 0 && !sameOps(layers[run[0]!]!.ops, layers[l]!.ops)) flush();
        run.push(l);
      }
      flush();
    }
    return runs;
  }
}

/**
 * Parses op labels such as `k3e6 k3e3 id | k5e3-se ...` (the format of `describe`). Stage
 * separators `|` are optional; when present they must match the space's stages. With
 * `seByDefault`, a bare MBConv label (`k3e6`) means its SE variant (`k3e6-se`), as in papers
 * whose searched blocks all carry SE.
 */
export function parseArchitectureLabels(
  space: SearchSpace,
  text: string,
  options: { readonly seByDefault?: boolean } = {},
): Architecture {
  const segments = text.split('|').map((segment) => segment.trim().split(/\s+/).filter((t) => t.length > 0));
  if (segments.length > 1) {
    if (segments.length !== space.stages.length) {
      throw architectureError('labels', `has ${segments.length} stages, the space has ${space.stages.length}`);
    }
    segments.forEach((tokens, s) => {
      const [start, end] = space.stages[s]!;
      if (tokens.length !== end - start) {
        throw architectureError(`labels stage ${s}`, `has ${tokens.length} ops, expected ${end - start}`);
      }
    });
  }
  const tokens = segments.flat();
  if (tokens.length !== space.numLayers) {
    throw architectureError('labels', `has ${tokens.length} ops, expected ${space.numLayers}`);
  }
  return tokens.map((token, l) => {
    const preferred = options.seByDefault && token !== 'id' && !token.endsWith('-se') ? `${token}-se` : token;
    const op = space.opIndexOfLabel(l, preferred);
    if (op < 0) {
      const choices = Array.from({ length: space.opCounts[l]! }, (_, o) => space.opLabel(l, o)).join(', ');
      throw architectureError(`labels[${l}]`, `"${token}" is not an op of layer ${l} (one of ${choices})`);
    }
    return op;
  });
}
