/**
 * Binary format of supernet weights (parameters, momentum buffers, BatchNorm running statistics):
 *
 *   bytes 0..7   magic "MCTNASW1"
 *   bytes 8..11  header length L (uint32, little-endian)
 *   bytes 12..   header: UTF-8 JSON {"tensors":[{"name","shape","dtype":"float32"}, ...]},
 *                space-padded so the data starts at a multiple of 4
 *   then         each tensor's values as little-endian float32, in header order, back to back
 *
 * Encoding is a pure function of the entries, so load-then-save reproduces a file byte for byte.
 */
import { endianness } from 'node:os';

const MAGIC = Buffer.from('MCTNASW1', 'ascii');

export interface NamedArray {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

function requireLittleEndianHost(): void {
  // Values are copied as raw float32 memory; every platform Node supports today is little-endian.
  if (endianness() !== 'LE') throw new Error('weight files are little-endian; this host is big-endian');
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function encodeWeights(entries: readonly NamedArray[]): Buffer {
  requireLittleEndianHost();
  const header: { tensors: HeaderEntry[] } = {
    tensors: entries.map((e) => {
      if (e.values.length !== sizeOf(e.shape)) {
        throw new Error(`tensor ${e.name}: ${e.values.length} values for shape [${e.shape.join(', ')}]`);
      }
      return { name: e.name, shape: [...e.shape], dtype: 'float32' };
    }),
  };
  let json = JSON.stringify(header);
  json += ' '.repeat((4 - ((MAGIC.length + 4 + Buffer.byteLength(json)) % 4)) % 4);
  const headerBytes = Buffer.from(json, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const data = entries.map((e) => Buffer.from(e.values.buffer, e.values.byteOffset, e.values.byteLength));
  return Buffer.concat([MAGIC, length, headerBytes, ...data]);
}

export function decodeWeights(buf: Buffer): NamedArray[] {
  requireLittleEndianHost();
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('not a supernet weight file (bad magic)');
  }
  const headerLength = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLength;
  if (dataStart > buf.length || dataStart % 4 !== 0) throw new Error('corrupt weight file header');
  const header = JSON.parse(buf.subarray(MAGIC.length + 4, dataStart).toString('utf8')) as { tensors?: unknown };
  if (!Array.isArray(header.tensors)) throw new Error('corrupt weight file header: no tensor list');
  let offset = dataStart;
  const out: NamedArray[] = [];
  for (const raw of header.tensors as HeaderEntry[]) {
    if (typeof raw.name !== 'string' || !Array.isArray(raw.shape) || raw.dtype !== 'float32') {
      throw new Error(`corrupt weight file header entry ${JSON.stringify(raw)}`);
    }
    const bytes = sizeOf(raw.shape) * 4;
    if (offset + bytes > buf.length) throw new Error(`weight file truncated in tensor ${raw.name}`);
    // Copy: the caller may keep the values after the buffer is reused.
    const values = new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + bytes));
    out.push({ name: raw.name, shape: raw.shape, values });
    offset += bytes;
  }
  if (offset !== buf.length) throw new Error(`weight file has ${buf.length - offset} trailing bytes`);
  return out;
}
