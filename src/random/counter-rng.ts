/**
 * Counter-based randomness: every draw is a pure function of (seed, step, purpose, index), so
 * nothing about generator state is ever saved, and a resumed run draws exactly what the
 * uninterrupted run would have drawn.
 *
 * The block function is Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC'11), written with 32-bit integer arithmetic so it needs no BigInt.
 * Layout of one block:
 *   key     = (seed, hash_a(purpose))
 *   counter = (index >> 1, step, hash_b(purpose), hash_c(purpose))
 * Each block yields four 32-bit words; draw `index` uses words (0, 1) when it is even and (2, 3)
 * when it is odd, 53 bits of which make one double in [0, 1). The purpose enters through 96
 * bits of hash, so distinct purpose strings collide with negligible probability.
 */

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;

const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;
/** Draw indices address blocks by a 32-bit counter word, two draws per block. */
const MAX_INDEX = 2 ** 33 - 1;

/** High 32 bits of the 64-bit product of two uint32 (the low half is Math.imul). */
function mulhi32(a: number, b: number): number {
  // Schoolbook multiplication on 16-bit halves: every partial product and sum stays below 2^53.
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const cross1 = aHi * bLo;
  const cross2 = aLo * bHi;
  const carry = (((aLo * bLo) >>> 16) + (cross1 & 0xffff) + (cross2 & 0xffff)) >>> 16;
  return (aHi * bHi + (cross1 >>> 16) + (cross2 >>> 16) + carry) >>> 0;
}

/** Philox-4x32-10 of counter (c0..c3) under key (k0, k1), written into `out`. */
function philoxInto(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): Uint32Array {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi32(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + PHILOX_W0) >>> 0;
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/**
 * Philox-4x32 with 10 rounds: the four output words for one counter and key.
 * Exported for the known-answer test against the Random123 reference vectors.
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): Uint32Array {
  return philoxInto(
    counter[0] >>> 0,
    counter[1] >>> 0,
    counter[2] >>> 0,
    counter[3] >>> 0,
    key[0] >>> 0,
    key[1] >>> 0,
    new Uint32Array(4),
  );
}

/**
 * MurmurHash3-style 32-bit hash mixing one UTF-16 code unit per round. Not byte-compatible with
 * MurmurHash3; it only has to be stable forever and well mixed (changing it changes every draw).
 */
function murmur3(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= text.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Stream {
  readonly seed: number;
  readonly step: number;
  readonly purposeA: number;
  readonly purposeB: number;
  readonly purposeC: number;
}

function stream(seed: number, step: number, purpose: string): Stream {
  if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_32) {
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
  if (!Number.isInteger(step) || step < 0 || step >= TWO_32) {
    throw new RangeError(`step must be an integer in [0, 2^32), got ${step}`);
  }
  if (typeof purpose !== 'string' || purpose.length === 0) {
    throw new RangeError('purpose must be a non-empty string');
  }
  return {
    seed,
    step,
    purposeA: murmur3(purpose, 0x2545f491),
    purposeB: murmur3(purpose, 0x9e3779b9),
    purposeC: murmur3(purpose, 0x7f4a7c15),
  };
}

function block(s: Stream, blockIndex: number, out: Uint32Array): Uint32Array {
  return philoxInto(blockIndex, s.step, s.purposeB, s.purposeC, s.seed, s.purposeA, out);
}

/** 53 uniform bits as an integer in [0, 2^53). */
function bits53(x: number, y: number): number {
  return (x >>> 5) * 67108864 + (y >>> 6);
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) {
    throw new RangeError(`index must be an integer in [0, 2^33), got ${index}`);
  }
}

// uniformAt is often called in loops over one stream: remember the last stream (a pure
// memo: it changes speed, never results) and reuse one scratch block (calls are synchronous).
let lastStream: (Stream & { readonly purpose: string }) | undefined;
const scratch = new Uint32Array(4);

/** The `index`-th draw of stream (seed, step, purpose): a double in [0, 1) with 53-bit resolution. */
export function uniformAt(seed: number, step: number, purpose: string, index: number): number {
  checkIndex(index);
  let s = lastStream;
  if (s === undefined || s.seed !== seed || s.step !== step || s.purpose !== purpose) {
    s = { ...stream(seed, step, purpose), purpose };
    lastStream = s;
  }
  const words = block(s, Math.floor(index / 2), scratch);
  const pair = (index & 1) * 2;
  return bits53(words[pair]!, words[pair + 1]!) / TWO_53;
}

/** A cursor over one stream; its i-th `next()` is `uniformAt(seed, step, purpose, i)`. */
export interface Rng {
  /** Uniform double in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n), exactly unbiased (rejection sampling on 53 bits); 1 <= n <= 2^53. */
  nextInt(n: number): number;
  /** Fisher–Yates shuffle in place; returns `items`. */
  shuffle<T>(items: T[]): T[];
  /** Number of draws consumed so far (the index of the next draw). */
  readonly drawn: number;
}

class CounterRng implements Rng {
  private index = 0;
  private readonly words = new Uint32Array(4);

  constructor(private readonly source: Stream) {}

  get drawn(): number {
    return this.index;
  }

  next(): number {
    return this.nextBits() / TWO_53;
  }

  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_53) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^53], got ${n}`);
    }
    // Accept only the largest multiple of n below 2^53 so every residue is equally likely;
    // the rejection probability is below n / 2^53.
    const limit = TWO_53 - (TWO_53 % n);
    for (;;) {
      const r = this.nextBits();
      if (r < limit) return r % n;
    }
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }

  private nextBits(): number {
    const i = this.index;
    if (i > MAX_INDEX) throw new RangeError('stream exhausted: more than 2^33 draws');
    this.index = i + 1;
    // Draws are sequential from 0, so an even index always starts a fresh block and the odd
    // index after it reuses the block's second half.
    if ((i & 1) === 0) {
      block(this.source, i / 2, this.words);
      return bits53(this.words[0]!, this.words[1]!);
    }
    return bits53(this.words[2]!, this.words[3]!);
  }
}

/** A fresh cursor at draw 0 of stream (seed, step, purpose). */
export function rngFor(seed: number, step: number, purpose: string): Rng {
  return new CounterRng(stream(seed, step, purpose));
}
