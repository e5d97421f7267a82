/**
 * Gradient kernels that `@tensorflow/tfjs-backend-wasm@4.22` lacks, registered on wasm so
 * `tf.conv2d` / `tf.depthwiseConv2d` train there unchanged:
 *
 * - `Conv2DBackpropFilter`: im2col built in JavaScript, then one matMul on wasm.
 * - `DepthwiseConv2dNativeBackpropFilter`: loops over pixels and taps around a WebAssembly SIMD
 *   multiply-accumulate over the channels (simd.ts).
 * - `DepthwiseConv2dNativeBackpropInput`: a stride-1 depthwise convolution of the (dilated,
 *   re-padded) output gradient with the spatially flipped filter — the forward kernel, which wasm
 *   runs through XNNPACK.
 *
 * Ops used inside a kernel run with the engine's tape off, so they are not differentiated again.
 * Slicing ops are avoided: on wasm `slice`/`stridedSlice` run in JavaScript and cost far more
 * than the arithmetic. Only NHWC, dilation 1 and channel multiplier 1 are supported (what the
 * supernet uses); other attributes throw instead of computing something wrong.
 */
import { simdArrays } from './simd.js';
import { tf, type Tensor, type Tensor4D, type TensorInfo } from './tf.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type PadAttr = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Shape4 = [number, number, number, number];

interface ConvAttrs {
  strides: [number, number] | number;
  pad: PadAttr;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
  dataFormat?: 'NHWC' | 'NCHW';
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * A Tensor view of a kernel input. It shares the input's data, so it takes a reference on the
 * backend first: disposing the view (at the end of the kernel's tidy) then drops only its own
 * reference instead of freeing the caller's data.
 */
function asTensor4D(info: TensorInfo, backend: KernelArgs['backend']): Tensor4D {
  const b = backend as tf.KernelBackend;
  b.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, b) as Tensor4D;
}

function requireSupported(kernel: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (wasm replacement): only NHWC is supported, got ${attrs.dataFormat}`);
  }
  const d = attrs.dilations ?? 1;
  if (!(d === 1 || (Array.isArray(d) && d[0] === 1 && d[1] === 1))) {
    throw new Error(`${kernel} (wasm replacement): only dilation 1 is supported, got ${String(d)}`);
  }
}

/** Reads a kernel input into JavaScript (a copy on wasm). */
function values(info: TensorInfo, backend: KernelArgs['backend']): Float32Array {
  return (backend as tf.KernelBackend).readSync(info.dataId) as Float32Array;
}

/**
 * Calls `visit(tap, xOffset, outOffset)` for every filter tap (i, j) and output pixel whose input
 * pixel lies inside the unpadded input; offsets point at channel 0 of NHWC rows.
 */
function forEachTap(info: Conv2DInfo, visit: (tap: number, xOffset: number, outOffset: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const outOffset = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let i = 0; i < filterHeight; i++) {
          const ih = oh * strideHeight + i - top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const iw = ow * strideWidth + j - left;
            if (iw < 0 || iw >= inWidth) continue;
            visit(i * filterWidth + j, ((n * inHeight + ih) * inWidth + iw) * inChannels, outOffset);
          }
        }
      }
    }
  }
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): Tensor {
  const a = attrs as unknown as ConvAttrs & { filterShape: Shape4 };
  requireSupported('Conv2DBackpropFilter', a);
  const x = inputs['x'] as TensorInfo;
  const dy = inputs['dy'] as TensorInfo;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
  const { inChannels, outChannels } = info;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const rows = info.filterHeight * info.filterWidth * inChannels;
  // im2col, transposed: row (tap, c) holds input channel c under filter tap `tap` for every
  // output pixel (zero where the tap falls on padding). Building it in JavaScript is a plain
  // copy; the matMul below then runs on wasm's fast path.
  const xs = values(x, backend);
  const columns = new Float32Array(rows * pixels);
  forEachTap(info, (tap, xOffset, outOffset) => {
    const pixel = outOffset / outChannels;
    for (let c = 0; c < inChannels; c++) columns[(tap * inChannels + c) * pixels + pixel] = xs[xOffset + c]!;
  });
  return tf.tidy(() => {
    const g = tf.reshape(asTensor4D(dy, backend), [pixels, outChannels]);
    return tf.reshape(tf.matMul(tf.tensor2d(columns, [rows, pixels]), g), a.filterShape);
  });
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): Tensor {
  const a = attrs as unknown as ConvAttrs & { filterShape: Shape4 };
  requireSupported('DepthwiseConv2dNativeBackpropFilter', a);
  if (a.filterShape[3] !== 1) {
    throw new Error('DepthwiseConv2dNativeBackpropFilter (wasm replacement): only channel multiplier 1 is supported');
  }
  const x = inputs['x'] as TensorInfo;
  const dy = inputs['dy'] as TensorInfo;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, true);
  // dW[tap, c] = sum over output pixels of x(pixel under tap, c) * dy(pixel, c): a per-channel
  // reduction no fast tfjs-wasm kernel expresses (tap-shifted slices + sums cost ~30x more). The
  // loops over pixels and taps stay in JavaScript; each run over the channels is one call of the
  // SIMD kernel in simd.ts, on copies of x and dy in its memory.
  const channels = info.inChannels;
  const xs = values(x, backend);
  const gs = values(dy, backend);
  const { views, addresses, accumulateProducts } = simdArrays([info.filterHeight * info.filterWidth * channels, xs.length, gs.length]);
  const [out, xView, gView] = views as [Float32Array, Float32Array, Float32Array];
  const [outAt, xAt, gAt] = addresses as [number, number, number];
  out.fill(0);
  xView.set(xs);
  gView.set(gs);
  // Byte addresses: 4 bytes per float.
  forEachTap(info, (tap, xOffset, gOffset) => accumulateProducts(outAt + 4 * tap * channels, xAt + 4 * xOffset, gAt + 4 * gOffset, channels));
  return tf.tensor4d(out.slice(), a.filterShape);
}

/** Inserts stride-1 zeros between rows and columns: [N, Ho, Wo, C] -> [N, Ho*sh, Wo*sw, C]. */
function dilate(g: Tensor4D, sh: number, sw: number): Tensor4D {
  const [n, ho, wo, c] = g.shape;
  let out = g;
  if (sh > 1) {
    const rows = tf.pad(tf.reshape(out, [n * ho, 1, wo * c]), [[0, 0], [0, sh - 1], [0, 0]]);
    out = tf.reshape(rows, [n, ho * sh, wo, c]);
  }
  if (sw > 1) {
    const cols = tf.pad(tf.reshape(out, [n * ho * sh * wo, 1, c]), [[0, 0], [0, sw - 1], [0, 0]]);
    out = tf.reshape(cols, [n, ho * sh, wo * sw, c]);
  }
  return out;
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes. */
function padOrCrop(t: Tensor4D, rows: [number, number], cols: [number, number]): Tensor4D {
  const [n, h, w, c] = t.shape;
  const cropTop = Math.max(0, -rows[0]);
  const cropBottom = Math.max(0, -rows[1]);
  const cropLeft = Math.max(0, -cols[0]);
  const cropRight = Math.max(0, -cols[1]);
  let out = t;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    out = tf.slice(out, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c]);
  }
  const padding: [number, number][] = [
    [0, 0],
    [Math.max(0, rows[0]), Math.max(0, rows[1])],
    [Math.max(0, cols[0]), Math.max(0, cols[1])],
    [0, 0],
  ];
  return padding.some(([b, e]) => b > 0 || e > 0) ? tf.pad(out, padding) : out;
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): Tensor {
  const a = attrs as unknown as ConvAttrs & { inputShape: Shape4 };
  requireSupported('DepthwiseConv2dNativeBackpropInput', a);
  const dy = inputs['dy'] as TensorInfo;
  const filter = inputs['filter'] as TensorInfo;
  if (filter.shape[3] !== 1) {
    throw new Error('DepthwiseConv2dNativeBackpropInput (wasm replacement): only channel multiplier 1 is supported');
  }
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as Shape4, a.strides, 1, a.pad, a.dimRoundingMode, true);
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  return tf.tidy(() => {
    // dx[i] = sum_k dyDilated[i + top - k] * w[k]: a valid correlation of dyDilated, shifted by
    // (k - 1 - top) and cropped/padded to length H + k - 1, with the flipped filter.
    const g = dilate(asTensor4D(dy, backend), sh, sw);
    const before = [kh - 1 - top, kw - 1 - left] as const;
    const after = [h + kh - 1 - before[0] - g.shape[1], w + kw - 1 - before[1] - g.shape[2]] as const;
    const placed = padOrCrop(g, [before[0], after[0]], [before[1], after[1]]);
    const flipped = tf.reverse(asTensor4D(filter, backend), [0, 1]) as Tensor4D;
    return tf.depthwiseConv2d(placed, flipped, 1, 'valid');
  });
}

const replacements: readonly [string, tf.KernelFunc][] = [
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput],
];

/**
 * Registers the replacements on the wasm backend where it has no kernel of its own (a future
 * tfjs that ships them keeps its own). Returns the kernel names registered by this call.
 */
export function registerWasmGradientKernels(): string[] {
  const registered: string[] = [];
  for (const [kernelName, kernelFunc] of replacements) {
    if (tf.getKernel(kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    registered.push(kernelName);
  }
  return registered;
}
