/**
 * Differentiable building blocks of the supernet, shaped by what is fast on the wasm backend
 * (measured on 2 cores, see STACK-NOTES.md):
 * - 1x1 convolutions are matMuls on [N*H*W, C] with a hand-written gradient that transposes
 *   explicitly (tfjs' own MatMul gradient uses transpose flags, which leave wasm's fast path);
 * - channel reductions (BatchNorm statistics and their gradients) are whole-image average pools;
 * - strided sub-sampling is a 1x1 one-hot depthwise convolution (XNNPACK) rather than
 *   `tf.stridedSlice`, which runs in JavaScript on wasm.
 */
import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor4D } from './tf.js';

export type Activation = 'relu' | 'relu6' | 'swish';

/** The `save` argument tfjs passes to a customGrad forward function. */
type SaveFn = (tensors: Tensor[]) => void;

/** a @ b with a gradient that never uses matMul's transpose flags. */
export const matMulFast = tf.customGrad((...args) => {
  const [a, b, save] = args as [Tensor2D, Tensor2D, SaveFn];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, saved) => {
      const [sa, sb] = saved as [Tensor2D, Tensor2D];
      const g = dy as Tensor2D;
      return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
    },
  };
}) as (a: Tensor2D, b: Tensor2D) => Tensor2D;

/**
 * Per-channel mean over batch and space: [N, H, W, C] -> [C]. A whole-image average pool
 * (XNNPACK) then a mean over the batch: reducing over leading axes otherwise costs a transpose
 * (`tf.mean(x, [0, 1, 2])`) or a re-packed matMul operand, each ~8x slower on wasm.
 */
function channelMeans(x: Tensor4D): Tensor1D {
  const [n, h, w, c] = x.shape;
  return tf.mean(tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [n, c]), 0);
}

/** Pointwise (1x1, stride 1) convolution with weights [Cin, Cout]. */
export function conv1x1(x: Tensor4D, w: Tensor2D): Tensor4D {
  const [n, h, wd, c] = x.shape;
  return tf.reshape(matMulFast(tf.reshape(x, [n * h * wd, c]), w), [n, h, wd, w.shape[1]]);
}

/** Keeps every `stride`-th pixel from the first, as a 1x1 convolution with stride and no padding does. */
export function subsample(x: Tensor4D, stride: number): Tensor4D {
  if (stride === 1) return x;
  const oneHot = tf.ones([1, 1, x.shape[3], 1]) as Tensor4D;
  return tf.depthwiseConv2d(x, oneHot, stride, 'valid');
}

/** PyTorch-style symmetric padding k//2 (TensorFlow's 'same' pads asymmetrically for stride 2). */
function symmetricPadding(kernel: number): [[number, number], [number, number], [number, number], [number, number]] {
  const p = Math.floor(kernel / 2);
  return [[0, 0], [p, p], [p, p], [0, 0]];
}

export function conv2d(x: Tensor4D, w: Tensor4D, stride: number): Tensor4D {
  return tf.conv2d(x, w, stride, symmetricPadding(w.shape[0]));
}

/** Depthwise convolution with weights [k, k, C, 1]. */
export function depthwise(x: Tensor4D, w: Tensor4D, stride: number): Tensor4D {
  return tf.depthwiseConv2d(x, w, stride, symmetricPadding(w.shape[0]));
}

export function activate(x: Tensor4D, act: Activation): Tensor4D {
  switch (act) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
  }
}

export interface BatchStatistics {
  readonly mean: Tensor1D;
  /** Biased (divided by N*H*W): what normalisation uses. */
  readonly variance: Tensor1D;
  /** Values per channel (N*H*W), for the unbiased variance of running statistics. */
  readonly count: number;
}

/**
 * BatchNorm with batch statistics (training mode), optionally fused with ReLU, with a
 * hand-written backward pass (the standard BN gradient) that costs a few elementwise passes
 * and two channel means instead of autodiff through `tf.moments`.
 * `onStatistics` receives the batch statistics (not part of the gradient) for running averages.
 */
export function batchNormTrain(
  x: Tensor4D,
  gamma: Tensor1D,
  beta: Tensor1D,
  epsilon: number,
  fuseRelu: boolean,
  onStatistics: (stats: BatchStatistics) => void,
): Tensor4D {
  const [n, h, w] = x.shape;
  const count = n * h * w;
  const op = tf.customGrad((...args) => {
    const [xIn, gammaIn, betaIn, save] = args as [Tensor4D, Tensor1D, Tensor1D, SaveFn];
    const mean = channelMeans(xIn);
    const centred: Tensor4D = tf.sub(xIn, mean);
    const variance = channelMeans(tf.square(centred));
    const invStd = tf.rsqrt(tf.add<Tensor1D>(variance, epsilon));
    const normalised: Tensor4D = tf.mul(centred, invStd);
    let y: Tensor4D = tf.add(tf.mul(normalised, gammaIn), betaIn);
    if (fuseRelu) y = tf.relu(y);
    onStatistics({ mean, variance, count });
    save([normalised, invStd, gammaIn, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sNorm, sInvStd, sGamma, sY] = saved as [Tensor4D, Tensor1D, Tensor1D, Tensor4D];
        let g = dy as Tensor4D;
        if (fuseRelu) g = tf.mul(g, tf.step(sY));
        const dBetaMean = channelMeans(g);
        const dGammaMean = channelMeans(tf.mul(g, sNorm));
        // dx = gamma * invStd * (g - mean(g) - normalised * mean(g * normalised))
        const scale: Tensor1D = tf.mul(sGamma, sInvStd);
        const dx = tf.sub(
          tf.sub(tf.mul(g, scale), tf.mul(sNorm, tf.mul(dGammaMean, scale))),
          tf.mul(dBetaMean, scale),
        );
        return [dx, tf.mul(dGammaMean, count), tf.mul(dBetaMean, count)];
      },
    };
  });
  return op(x, gamma, beta) as Tensor4D;
}

/** BatchNorm with running statistics (inference mode), folded into one scale and shift. */
export function batchNormInfer(
  x: Tensor4D,
  gamma: Tensor1D,
  beta: Tensor1D,
  runningMean: Tensor1D,
  runningVariance: Tensor1D,
  epsilon: number,
): Tensor4D {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVariance, epsilon)));
  const shift = tf.sub(beta, tf.mul(runningMean, scale));
  return tf.add(tf.mul(x, scale), shift);
}

/** Mean over the spatial axes: [N, H, W, C] -> [N, C] (an average pool: see channelMeans). */
export function globalAveragePool(x: Tensor4D): Tensor2D {
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [n, c]);
}

/** Cross-entropy against smoothed one-hot targets ((1 - eps) on the label, eps / K spread). */
export function smoothedCrossEntropy(logits: Tensor2D, labels: Tensor1D, smoothing: number): Tensor {
  const classes = logits.shape[1];
  const oneHot = tf.oneHot(labels, classes);
  const targets = smoothing === 0 ? oneHot : tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / classes);
  const logProbs = tf.sub(logits, tf.logSumExp(logits, 1, true));
  return tf.neg(tf.mean(tf.sum(tf.mul(targets, logProbs), 1)));
}
