/** Shared fixtures of the training tests: tiny spaces and batches that run in milliseconds. */
import { nasBenchMacro, scaledSpace } from '../../src/search-space/presets.js';
import type { SearchSpaceDefinition } from '../../src/search-space/definition.js';
import { selectBackend } from '../../src/training/backend.js';

/** NAS-Bench-Macro at the narrowest width (8/16/32 channels, head 160) on 8x8 grayscale images. */
export function tinyMacroSpace(classes = 10): SearchSpaceDefinition {
  return scaledSpace(nasBenchMacro, { widthMultiplier: 0.1, inputSize: 8, inputChannels: 1, classes });
}

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  await selectBackend(name, () => {});
}

/** A deterministic batch (no RNG needed): smooth patterns whose class is learnable. */
export function syntheticBatch(space: SearchSpaceDefinition, n: number, offset = 0): { images: Float32Array; labels: Int32Array } {
  const { size, channels } = space.input;
  const classes = space.head.classes;
  const images = new Float32Array(n * size * size * channels);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const label = (k + offset) % classes;
    labels[k] = label;
    for (let p = 0; p < size * size * channels; p++) {
      images[k * size * size * channels + p] = Math.sin((p + 1) * (label + 1) * 0.7 + k + offset) + (label - classes / 2) * 0.2;
    }
  }
  return { images, labels };
}

export const sameBits = (a: number, b: number): boolean => Object.is(a, b);
