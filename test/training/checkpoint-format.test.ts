import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWeights, encodeWeights } from '../../src/training/checkpoint-format.js';

const entries = [
  { name: 'l0.op1.expand.w', shape: [2, 3], values: Float32Array.from([1, -2, 3.5, Math.PI, -0, 1e-30]) },
  { name: 'stem.bn.running_var', shape: [1], values: Float32Array.from([Number.NaN]) },
  { name: 'momentum/l0.op1.expand.w', shape: [2, 3], values: new Float32Array(6) },
];

describe('supernet weight file format', () => {
  it('starts with a magic and a JSON header listing names, shapes and dtypes, then 4-byte-aligned float32 data', () => {
    const buf = encodeWeights(entries);
    assert.equal(buf.subarray(0, 8).toString('ascii'), 'MCTNASW1');
    const headerLength = buf.readUInt32LE(8);
    assert.equal((12 + headerLength) % 4, 0);
    const header = JSON.parse(buf.subarray(12, 12 + headerLength).toString('utf8'));
    assert.deepEqual(header.tensors[0], { name: 'l0.op1.expand.w', shape: [2, 3], dtype: 'float32' });
    assert.equal(buf.length, 12 + headerLength + 4 * (6 + 1 + 6));
    assert.equal(buf.readFloatLE(12 + headerLength + 4 * 2), 3.5);
  });

  it('decodes to the same names, shapes and bits, and re-encodes byte for byte', () => {
    const buf = encodeWeights(entries);
    const decoded = decodeWeights(buf);
    assert.deepEqual(decoded.map((e) => [e.name, e.shape]), entries.map((e) => [e.name, e.shape]));
    decoded.forEach((e, i) => assert.deepEqual(new Uint8Array(e.values.buffer), new Uint8Array(entries[i]!.values.buffer)));
    assert.ok(encodeWeights(decoded).equals(buf));
  });

  it('rejects foreign, truncated or padded files', () => {
    const buf = encodeWeights(entries);
    assert.throws(() => decodeWeights(Buffer.from('not weights at all')), /bad magic/);
    assert.throws(() => decodeWeights(buf.subarray(0, buf.length - 4)), /truncated/);
    assert.throws(() => decodeWeights(Buffer.concat([buf, Buffer.alloc(4)])), /trailing bytes/);
  });

  it('refuses a shape that does not match the number of values', () => {
    assert.throws(() => encodeWeights([{ name: 'w', shape: [2, 2], values: new Float32Array(3) }]), /3 values for shape \[2, 2\]/);
  });
});
