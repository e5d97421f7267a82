/**
 * One WebAssembly SIMD kernel, hand-assembled (no toolchain needed): `out[i] += x[i] * g[i]` for
 * i < n over float32 arrays in the module's own memory, four lanes at a time. The depthwise
 * filter gradient spends nearly all its time in exactly this loop; in plain JavaScript it runs at
 * several ns per element, in SIMD several times faster. wasm arithmetic is IEEE-exact (no fused
 * multiply-add), so results are identical on every machine.
 *
 * Module (text form):
 *   (memory (export "memory") 1)
 *   (func (export "accumulateProducts") (param $out i32) (param $x i32) (param $g i32) (param $n i32)
 *     ;; byte addresses; $n floats
 *     (local $end i32) (local $end4 i32)
 *     end = out + 4n; end4 = out + 4 (n & ~3)
 *     while out < end4: v128.store(out, f32x4.add(v128.load(out), f32x4.mul(v128.load(x), v128.load(g)))); out, x, g += 16
 *     while out < end:  f32.store(out, f32.add(f32.load(out), f32.mul(f32.load(x), f32.load(g)))); out, x, g += 4)
 */

const I32 = 0x7f;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  i32: (value: number) => [0x41, value & 0x7f], // single-byte signed LEB128: -64 <= value < 64
  add: [0x6a],
  and: [0x71],
  shl: [0x74],
  geU: [0x4f],
  f32Load: [0x2a, 0x02, 0x00],
  f32Store: [0x38, 0x02, 0x00],
  f32Add: [0x92],
  f32Mul: [0x94],
  v128Load: [0xfd, 0x00, 0x02, 0x00],
  v128Store: [0xfd, 0x0b, 0x02, 0x00],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
};
const [OUT, X, G, N, END, END4] = [0, 1, 2, 3, 4, 5];

/** out, x, g advance by `bytes`. */
const advance = (bytes: number): number[] =>
  [OUT, X, G].flatMap((l) => [...op.get(l), ...op.i32(bytes), ...op.add, ...op.set(l)]);

/** while (out < limit) { body; advance(bytes) } */
const loopUntil = (limit: number, body: number[], bytes: number): number[] => [
  ...op.block,
  ...op.loop,
  ...op.get(OUT), ...op.get(limit), ...op.geU, ...op.brIf(1),
  ...body,
  ...advance(bytes),
  ...op.br(0),
  ...op.end,
  ...op.end,
];

const body = [
  ...op.get(OUT), ...op.get(N), ...op.i32(2), ...op.shl, ...op.add, ...op.set(END),
  ...op.get(OUT), ...op.get(N), ...op.i32(-4), ...op.and, ...op.i32(2), ...op.shl, ...op.add, ...op.set(END4),
  ...loopUntil(
    END4,
    [...op.get(OUT), ...op.get(OUT), ...op.v128Load, ...op.get(X), ...op.v128Load, ...op.get(G), ...op.v128Load, ...op.f32x4Mul, ...op.f32x4Add, ...op.v128Store],
    16,
  ),
  ...loopUntil(
    END,
    [...op.get(OUT), ...op.get(OUT), ...op.f32Load, ...op.get(X), ...op.f32Load, ...op.get(G), ...op.f32Load, ...op.f32Mul, ...op.f32Add, ...op.f32Store],
    4,
  ),
  ...op.end,
];

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'ascii')];
const code = [1, 2, I32, ...body]; // one local group: 2 x i32 (END, END4)

const moduleBytes = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 0]), // type: (i32 i32 i32 i32) -> ()
  ...section(3, [1, 0]), // one function of type 0
  ...section(5, [1, 0x00, 1]), // one memory, at least 1 page
  ...section(7, [2, ...name('memory'), 0x02, 0, ...name('accumulateProducts'), 0x00, 0]),
  ...section(10, [1, ...uleb(code.length), ...code]),
]);

// The project's TypeScript lib (ES2023, no DOM) does not declare WebAssembly; this is the part used.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const WebAssemblyApi = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } };
}).WebAssembly;

interface Exports {
  memory: WasmMemory;
  accumulateProducts(out: number, x: number, g: number, n: number): void;
}

let instance: Exports | undefined;

function exports(): Exports {
  instance ??= new WebAssemblyApi.Instance(new WebAssemblyApi.Module(moduleBytes)).exports as Exports;
  return instance;
}

/**
 * Float32 views of `lengths` consecutive, 16-byte-aligned arrays in the kernel's memory, with
 * their byte addresses. The memory grows as needed and is kept for the next call (it never
 * shrinks: the largest depthwise layer bounds it); views are invalidated by the next call.
 */
export function simdArrays(lengths: readonly number[]): { views: Float32Array[]; addresses: number[]; accumulateProducts: Exports['accumulateProducts'] } {
  const e = exports();
  const addresses: number[] = [];
  let bytes = 0;
  for (const n of lengths) {
    addresses.push(bytes);
    bytes += Math.ceil((n * 4) / 16) * 16;
  }
  const missing = bytes - e.memory.buffer.byteLength;
  if (missing > 0) e.memory.grow(Math.ceil(missing / 65536));
  const views = lengths.map((n, i) => new Float32Array(e.memory.buffer, addresses[i], n));
  return { views, addresses, accumulateProducts: e.accumulateProducts };
}
