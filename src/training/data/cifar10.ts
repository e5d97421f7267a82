/**
 * CIFAR-10 in its official binary format (`cifar-10-batches-bin`): each record is 1 label byte
 * followed by 3072 pixel bytes, the 32x32 red plane, then green, then blue (row-major).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkIndex, type Dataset } from './dataset.js';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILES = ['test_batch.bin'];

/** Channel statistics of the CIFAR-10 training set (the usual normalisation constants). */
const NORMALIZATION = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

/** Reads `files` (default: the five training batches) from `dir` into memory. */
export function cifar10Dataset(dir: string, files: readonly string[] = CIFAR10_TRAIN_FILES): Dataset {
  const chunks = files.map((f) => {
    const buf = readFileSync(join(dir, f));
    if (buf.length === 0 || buf.length % RECORD !== 0) {
      throw new Error(`${f}: ${buf.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records`);
    }
    return buf;
  });
  const records = Buffer.concat(chunks);
  const size = records.length / RECORD;
  for (let i = 0; i < size; i++) {
    const label = records[i * RECORD]!;
    if (label > 9) throw new Error(`CIFAR-10 record ${i} has label ${label}; labels are 0..9`);
  }
  return {
    size,
    inputShape: [SIDE, SIDE, 3],
    classes: 10,
    normalization: NORMALIZATION,
    get(i) {
      checkIndex(this, i);
      const base = i * RECORD + 1;
      const image = new Float32Array(3 * PLANE);
      for (let p = 0; p < PLANE; p++) {
        for (let c = 0; c < 3; c++) image[p * 3 + c] = records[base + c * PLANE + p]! / 255;
      }
      return { image, label: records[i * RECORD]! };
    },
    label(i) {
      checkIndex(this, i);
      return records[i * RECORD]!;
    },
  };
}
