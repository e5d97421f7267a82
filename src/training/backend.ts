/**
 * Chooses the TensorFlow.js backend: native GPU, native CPU, wasm (SIMD), then pure-JS cpu.
 *
 * The native packages are optionalDependencies that download libtensorflow at install time; where
 * that fails npm silently drops them, so they are loaded with a dynamic `import()` of a computed
 * specifier (TypeScript must not require their types) and their absence is an ordinary skip.
 */
import { tf } from './tf.js';
import { registerWasmGradientKernels } from './wasm-gradients.js';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface BackendSelection {
  /** The candidate that is active. */
  readonly backend: BackendName;
  /** The name the tfjs engine knows it by (`tensorflow`, `wasm`, `cpu`). */
  readonly engineBackend: string;
  /** Candidates tried before it (or passed over because one was forced), with the reason. */
  readonly skipped: readonly { readonly backend: BackendName; readonly reason: string }[];
}

export const BACKEND_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

const ALIASES: Readonly<Record<string, BackendName>> = {
  'tfjs-node-gpu': 'tfjs-node-gpu',
  'node-gpu': 'tfjs-node-gpu',
  gpu: 'tfjs-node-gpu',
  'tfjs-node': 'tfjs-node',
  node: 'tfjs-node',
  tensorflow: 'tfjs-node',
  wasm: 'wasm',
  cpu: 'cpu',
};

export function parseBackendName(value: string): BackendName {
  const name = ALIASES[value.trim().toLowerCase()];
  if (name === undefined) {
    throw new Error(`unknown TF_BACKEND '${value}': expected one of ${Object.keys(ALIASES).join(', ')}`);
  }
  return name;
}

async function importOptional(specifier: string): Promise<void> {
  await import(specifier);
}

function errorMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // Module-not-found messages list the importing file; the first line says what matters.
  return message.split('\n')[0] ?? message;
}

/** Loads and activates one candidate; throws with the reason when it cannot run. */
async function activate(name: BackendName): Promise<string> {
  let engineName: string;
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      await importOptional(`@tensorflow/${name}`);
      engineName = 'tensorflow';
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmGradientKernels();
      engineName = 'wasm';
      break;
    case 'cpu':
      engineName = 'cpu';
      break;
  }
  if (tf.findBackendFactory(engineName) === null) {
    // The package loaded but registered into another copy of @tensorflow/tfjs-core: the app would
    // silently keep computing on a different engine. Treat it as unusable.
    throw new Error(`loaded, but backend '${engineName}' is not registered in the app's @tensorflow/tfjs (duplicate tfjs-core install?)`);
  }
  if (!(await tf.setBackend(engineName))) throw new Error(`tf.setBackend('${engineName}') failed to initialise`);
  await tf.ready();
  return engineName;
}

/**
 * Activates the first backend that works, in BACKEND_ORDER. `preferred` (default: the
 * `TF_BACKEND` environment variable) forces one: it is used or this throws — a forced choice
 * never silently falls back. The result is logged through `log` and returned for the caller to
 * record as an event.
 */
export async function selectBackend(
  preferred: string | undefined = process.env['TF_BACKEND'],
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<BackendSelection> {
  const forced = preferred !== undefined && preferred.trim() !== '' ? parseBackendName(preferred) : undefined;
  const skipped: { backend: BackendName; reason: string }[] = BACKEND_ORDER.filter(
    (b) => forced !== undefined && b !== forced,
  ).map((b) => ({ backend: b, reason: `TF_BACKEND forces ${forced}` }));
  for (const candidate of forced !== undefined ? [forced] : BACKEND_ORDER) {
    try {
      const engineBackend = await activate(candidate);
      for (const s of skipped) log(`tfjs backend ${s.backend} skipped: ${s.reason}`);
      log(`tfjs backend ${candidate} active (engine backend '${engineBackend}')`);
      return { backend: candidate, engineBackend, skipped };
    } catch (e) {
      const reason = errorMessage(e);
      if (forced !== undefined) throw new Error(`TF_BACKEND forces ${forced}, which cannot run: ${reason}`);
      skipped.push({ backend: candidate, reason });
    }
  }
  // The cpu backend ships inside @tensorflow/tfjs, so reaching here means tfjs itself is broken.
  throw new Error(`no TensorFlow.js backend could be activated: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}
