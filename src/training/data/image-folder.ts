/**
 * ImageNet-style class folders: `root/<class name>/<image>.jpg`. Classes are the sub-folders in
 * sorted order (label = position); images are decoded on demand with jpeg-js and resized the way
 * ImageNet evaluation does: the shorter side to `size / cropFraction` (bilinear), then a centred
 * `size` x `size` crop.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { checkIndex, type Dataset } from './dataset.js';

export interface ImageFolderOptions {
  /** Side of the square images produced. */
  readonly size: number;
  /** Fraction of the resized shorter side kept by the centre crop (default 0.875: 256 -> 224). */
  readonly cropFraction?: number;
}

const JPEG = /\.jpe?g$/i;

function sortedNames(dir: string, keep: (isDir: boolean, name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => keep(e.isDirectory(), e.name))
    .map((e) => e.name)
    .sort();
}

export interface ImageFolderDataset extends Dataset {
  readonly classNames: readonly string[];
  /** Path of sample i. */
  file(i: number): string;
}

export function imageFolderDataset(root: string, options: ImageFolderOptions): ImageFolderDataset {
  const { size } = options;
  const cropFraction = options.cropFraction ?? 0.875;
  const classNames = sortedNames(root, (isDir) => isDir);
  if (classNames.length === 0) throw new Error(`${root} has no class folders`);
  const files: string[] = [];
  const labels: number[] = [];
  classNames.forEach((name, label) => {
    for (const f of sortedNames(join(root, name), (isDir, n) => !isDir && JPEG.test(n))) {
      files.push(join(root, name, f));
      labels.push(label);
    }
  });
  if (files.length === 0) throw new Error(`${root} has no JPEG images in its class folders`);
  return {
    size: files.length,
    inputShape: [size, size, 3],
    classes: classNames.length,
    classNames,
    normalization: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    file(i) {
      checkIndex(this, i);
      return files[i]!;
    },
    get(i) {
      checkIndex(this, i);
      const decoded = jpeg.decode(readFileSync(files[i]!), { useTArray: true, formatAsRGBA: true });
      return { image: resizeAndCrop(decoded.data, decoded.width, decoded.height, size, cropFraction), label: labels[i]! };
    },
    label(i) {
      checkIndex(this, i);
      return labels[i]!;
    },
  };
}

/** RGBA bytes -> RGB [0, 1] floats, shorter side resized to size / cropFraction, centre crop. */
export function resizeAndCrop(rgba: Uint8Array, width: number, height: number, size: number, cropFraction: number): Float32Array {
  const shorter = Math.max(size, Math.round(size / cropFraction));
  const scale = shorter / Math.min(width, height);
  const resizedW = Math.max(size, Math.round(width * scale));
  const resizedH = Math.max(size, Math.round(height * scale));
  const top = Math.floor((resizedH - size) / 2);
  const left = Math.floor((resizedW - size) / 2);
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    // Half-pixel centres: resized pixel r covers source coordinate (r + 0.5) * (src / resized) - 0.5.
    const sy = Math.min(Math.max(((y + top + 0.5) * height) / resizedH - 0.5, 0), height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(Math.max(((x + left + 0.5) * width) / resizedW - 0.5, 0), width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, width - 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const p00 = rgba[(y0 * width + x0) * 4 + c]!;
        const p01 = rgba[(y0 * width + x1) * 4 + c]!;
        const p10 = rgba[(y1 * width + x0) * 4 + c]!;
        const p11 = rgba[(y1 * width + x1) * 4 + c]!;
        const v = (p00 * (1 - fx) + p01 * fx) * (1 - fy) + (p10 * (1 - fx) + p11 * fx) * fy;
        out[(y * size + x) * 3 + c] = v / 255;
      }
    }
  }
  return out;
}
