import type { AppConfig } from '../config.js';
import type { Database } from '../database/database.js';
import { presetRequest } from '../experiments/presets.js';
import { startService } from './service.js';

export const DEFAULT_EXPERIMENT_NAME = 'default: NAS-Bench-Macro x0.25 on Fashion-MNIST';

/**
 * `npm start`: serve the API and run the default experiment in the same process (queryable
 * while it runs). The experiment is created on first start; every later start resumes it.
 * When it is done, the service keeps serving until Ctrl-C.
 */
export async function runDefaultJob(config: AppConfig, database?: Promise<Database>): Promise<void> {
  const running = await startService(config, { database });
  // The training stack (TensorFlow.js and its wasm backend) loads once the service is serving.
  const { printOutcome, trainJob } = await import('./jobs.js');
  const service = running.runtime.service;
  const existing = (await running.runtime.index.list()).filter((e) => e.name === DEFAULT_EXPERIMENT_NAME).at(-1);
  const id = existing?.id ?? (await service.create(presetRequest('demo', { name: DEFAULT_EXPERIMENT_NAME }))).id;
  console.log(`${existing ? 'resuming' : 'created'} the default experiment ${id}`);
  console.log(`  watch it: curl ${running.url}/experiments/${id}   tree: curl '${running.url}/experiments/${id}/tree?depth=2&top=5'`);
  const started = Date.now();
  const lifecycle = (await service.projections.current(id)).status.lifecycle;
  if (lifecycle === 'completed') await printOutcome(service, id, null);
  else {
    const result = await trainJob(service, config, id);
    console.log(`this run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (result.lifecycle !== 'completed') {
      await running.close();
      return;
    }
  }
  if (process.env.MCTNAS_EXIT_AFTER_JOB === '1') {
    await running.close();
    return;
  }
  console.log(`service still running at ${running.url} (Ctrl-C to stop)`);
  if (!running.stopping.aborted) await new Promise((resolveStop) => running.stopping.addEventListener('abort', resolveStop, { once: true }));
  await running.close();
}
