/**
 * The one TensorFlow.js entry point of the application. Every module imports `tf` from here,
 * never from a backend package, so all code talks to the same engine and kernel registry.
 *
 * `@tensorflow/tfjs` resolves to its CommonJS build under Node; `@tensorflow/tfjs-node(-gpu)` and
 * `@tensorflow/tfjs-backend-wasm` `require` the same `@tensorflow/tfjs-core` instance, so a
 * backend they register becomes visible here (selectBackend verifies that it did).
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor4D, Scalar, Rank, TensorInfo } from '@tensorflow/tfjs';
