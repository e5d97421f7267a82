/**
 * Deterministic weight initialisation: every value is a pure function of (seed, variable name),
 * drawn from the counter RNG's stream (seed, step 0, `init/<name>`). Adding a variable, or
 * building the variables in another order, never changes the values of the others.
 */
import { rngFor } from '../random/counter-rng.js';

export type Initializer =
  /** He et al. 2015: N(0, 2 / fanIn), for weights followed by ReLU-family activations. */
  | { readonly kind: 'he-normal'; readonly fanIn: number }
  /** N(0, std^2), e.g. the classifier's N(0, 0.01^2) as in torchvision's MobileNetV2. */
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'constant'; readonly value: number };

export function initialValues(seed: number, name: string, size: number, init: Initializer): Float32Array {
  const out = new Float32Array(size);
  if (init.kind === 'constant') return out.fill(init.value);
  const std = init.kind === 'he-normal' ? Math.sqrt(2 / init.fanIn) : init.std;
  const rng = rngFor(seed, 0, `init/${name}`);
  // Box–Muller: two uniforms give two independent standard normals.
  for (let i = 0; i < size; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const angle = 2 * Math.PI * rng.next();
    out[i] = std * radius * Math.cos(angle);
    if (i + 1 < size) out[i + 1] = std * radius * Math.sin(angle);
  }
  return out;
}
