/**
 * The supernet's state in a checkpoint (the byte format is checkpoint-format.ts): parameters in
 * construction order, then BN running statistics, then the momentum buffers of the variables
 * trained so far as `momentum/<name>`. The order is fixed, so equal state gives equal bytes.
 * Decoding checks every tensor against the supernet before anything is replaced, so a bad file
 * leaves the supernet intact.
 */
import type { BatchNormStatistics } from './batch-norm-statistics.js';
import { decodeWeights, encodeWeights, type NamedArray } from './checkpoint-format.js';
import type { SgdMomentum } from './sgd-momentum.js';
import type { SupernetModel } from './supernet-model.js';
import { tf, type Tensor, type Tensor1D } from './tf.js';

const MOMENTUM_PREFIX = 'momentum/';

export interface SupernetParts {
  readonly model: SupernetModel;
  readonly statistics: BatchNormStatistics;
  readonly optimizer: SgdMomentum;
}

export function encodeSupernet({ model, statistics, optimizer }: SupernetParts): Buffer {
  const entries: NamedArray[] = [];
  const push = (name: string, t: Tensor): void => {
    entries.push({ name, shape: t.shape, values: t.dataSync() as Float32Array });
  };
  for (const [name, t] of model.entries()) push(name, t);
  for (const [name, t] of statistics.entries()) push(name, t);
  for (const name of model.variableNames) {
    const v = optimizer.buffer(name);
    if (v !== undefined) push(`${MOMENTUM_PREFIX}${name}`, v);
  }
  return encodeWeights(entries);
}

/** Replaces the parts' state with an `encodeSupernet` image of a supernet over the same space. */
export function decodeSupernetInto(buf: Buffer, { model, statistics, optimizer }: SupernetParts): void {
  const entries = new Map(decodeWeights(buf).map((e) => [e.name, e]));
  const expect = (name: string, shape: readonly number[]): NamedArray => {
    const e = entries.get(name);
    if (e === undefined) throw new Error(`weight file lacks ${name}`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`weight file: ${name} has shape [${e.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return e;
  };
  const params = model.variableNames.map((name) => expect(name, model.variableShape(name)));
  const running = [...statistics.entries()].map(([name, t]) => expect(name, t.shape));
  const velocity: NamedArray[] = [];
  for (const e of entries.values()) {
    if (!e.name.startsWith(MOMENTUM_PREFIX)) {
      if (model.value(e.name) === undefined && statistics.value(e.name) === undefined) throw new Error(`weight file has unknown tensor ${e.name}`);
      continue;
    }
    const target = e.name.slice(MOMENTUM_PREFIX.length);
    if (model.value(target) === undefined) throw new Error(`weight file has momentum for unknown variable ${target}`);
    velocity.push(expect(e.name, model.variableShape(target)));
  }
  model.load(new Map(params.map((e) => [e.name, tf.tensor(e.values, [...e.shape])])));
  statistics.load(new Map(running.map((e) => [e.name, tf.tensor1d(e.values) as Tensor1D])));
  optimizer.load(new Map(velocity.map((e) => [e.name.slice(MOMENTUM_PREFIX.length), tf.tensor(e.values, [...e.shape])])));
}
