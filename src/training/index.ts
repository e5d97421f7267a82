/** Public API of the training module (backend selection, supernet, data). */
export { tf } from './tf.js';
export { BACKEND_ORDER, parseBackendName, selectBackend, type BackendName, type BackendSelection } from './backend.js';
export { registerWasmGradientKernels } from './wasm-gradients.js';
export { cosineLr, Supernet, type EvaluationResult, type LabelledBatch, type SupernetOptions } from './supernet.js';
export { decodeWeights, encodeWeights, type NamedArray } from './checkpoint-format.js';
export { splitTrainVal, subset, type Dataset, type Sample, type SplitOptions } from './data/dataset.js';
export { CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES, cifar10Dataset } from './data/cifar10.js';
export { FASHION_MNIST_LABELS, fashionMnistDataset, type FashionMnistOptions } from './data/fashion-mnist.js';
export { imageFolderDataset, type ImageFolderDataset, type ImageFolderOptions } from './data/image-folder.js';
export {
  epochPermutation,
  evaluationBatches,
  TrainingBatches,
  type Augmentation,
  type Batch,
  type TrainingBatchesOptions,
} from './data/loader.js';
