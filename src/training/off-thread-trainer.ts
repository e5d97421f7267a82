/**
 * The supernet trained on its own thread. TensorFlow.js (wasm) computes synchronously on the
 * thread that calls it; on the service's thread a step therefore stalls everything else there
 * for its whole duration: the database client (and PGlite, which is Postgres in wasm on that
 * same thread), the projection, lease heartbeats and HTTP. The write-behind commit of
 * [reward t, sample t+1] could not progress while step t+1 computed, so it ran between steps
 * instead of beside them. OffThreadTrainer keeps the same SupernetTrainer in a `worker_thread`
 * (trainer-thread.ts) and forwards the StepTrainer calls to it as messages, answered in order;
 * the service thread is free while a step trains.
 *
 * Results are the same bits as on the service thread: the same code and wasm binary compute
 * the same kernels on the same inputs, in the same order (test/training/off-thread-trainer.test.ts).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Architecture } from '../search-space/definition.js';
import type { CandidateEvaluator, FullValidationResult } from '../search/evaluator.js';
import type { TreeEventData } from '../tree/events.js';
import { type BackendName, parseBackendName } from './backend.js';
import type { StepTrainer } from './step-trainer.js';
import { SupernetTrainer, trainingSettingsSchema } from './supernet-trainer.js';

/** What the service thread asks the training thread (answered one at a time, in order). */
export type ThreadRequestBody =
  | { readonly op: 'train'; readonly step: number; readonly architecture: number[] }
  | { readonly op: 'save' }
  | { readonly op: 'load'; readonly bytes: Uint8Array }
  | { readonly op: 'validationBatchLoss'; readonly architecture: number[]; readonly batch: number }
  | { readonly op: 'fullValidation'; readonly architecture: number[]; readonly candidate: number };
export type ThreadRequest = ThreadRequestBody & { readonly id: number };

export type ThreadReply =
  | { readonly kind: 'ready'; readonly backend: StepTrainer['backend'] }
  | { readonly kind: 'log'; readonly line: string }
  | { readonly kind: 'result'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: number; readonly message: string };

/** Where the supernet trains: `worker` (its own thread, the default) or `main` (the service's thread). */
export type TrainingThread = 'worker' | 'main';

export function parseTrainingThread(value: string | undefined): TrainingThread {
  const v = value?.trim().toLowerCase() ?? '';
  if (v === '' || v === 'worker') return 'worker';
  if (v === 'main') return 'main';
  throw new Error(`unknown MCTNAS_TRAINING_THREAD '${value}': expected worker or main`);
}

const NATIVE_BACKENDS: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node'];

/**
 * The native backend this experiment would train on, if any: the one forced (experiment's
 * `training.backend`, else TF_BACKEND), or else the first native package that is installed.
 * Only installation is checked (resolving the package loads nothing): whether it then
 * activates is selectBackend's business, on the service thread.
 */
function nativeBackendFor(experiment: TreeEventData<'ExperimentCreated'>): BackendName | null {
  const preferred = trainingSettingsSchema.parse(experiment.training ?? {}).backend ?? process.env['TF_BACKEND'];
  if (preferred !== undefined && preferred.trim() !== '') {
    const forced = parseBackendName(preferred);
    return NATIVE_BACKENDS.includes(forced) ? forced : null;
  }
  const resolve = createRequire(import.meta.url).resolve;
  return (
    NATIVE_BACKENDS.find((name) => {
      try {
        resolve(`@tensorflow/${name}`);
        return true;
      } catch {
        return false;
      }
    }) ?? null
  );
}

/**
 * The trainer of an experiment's supernet, on the thread `thread` names (default: the
 * MCTNAS_TRAINING_THREAD environment variable, else `worker`). The native tfjs-node(-gpu)
 * backends stay on the service thread: they could not be installed on the machines this was
 * built on (their install script downloads libtensorflow), so loading their addon in a worker
 * thread is unverified, and a native addon that fails there may take the process down rather
 * than throw.
 */
export async function createSupernetTrainer(
  experiment: TreeEventData<'ExperimentCreated'>,
  log?: (line: string) => void,
  thread: TrainingThread = parseTrainingThread(process.env['MCTNAS_TRAINING_THREAD']),
): Promise<StepTrainer> {
  if (thread === 'main') return SupernetTrainer.create(experiment, log);
  const native = nativeBackendFor(experiment);
  if (native !== null) {
    log?.(`training on the service thread: ${native} is not run in a worker thread`);
    return SupernetTrainer.create(experiment, log);
  }
  return OffThreadTrainer.start(experiment, log);
}

export class OffThreadTrainer implements StepTrainer {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  /** set once the thread is gone (disposed, crashed): every later call fails with it */
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly backend: StepTrainer['backend'],
  ) {}

  /** Starts the training thread; resolves once its SupernetTrainer is built (backend selected, data loaded). */
  static start(experiment: TreeEventData<'ExperimentCreated'>, log?: (line: string) => void): Promise<OffThreadTrainer> {
    const worker = new Worker(new URL('./trainer-thread.js', import.meta.url), { workerData: experiment });
    return new Promise((resolve, reject) => {
      let trainer: OffThreadTrainer | null = null;
      const fail = (error: Error): void => {
        if (trainer) trainer.fail(error);
        else reject(error);
      };
      worker.on('message', (reply: ThreadReply) => {
        if (reply.kind === 'log') log?.(reply.line);
        else if (reply.kind === 'ready') resolve((trainer = new OffThreadTrainer(worker, reply.backend)));
        else trainer?.settle(reply);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`the training thread exited (code ${code})`)));
    });
  }

  trainStep(step: number, architecture: Architecture): Promise<number> {
    return this.request({ op: 'train', step, architecture: [...architecture] });
  }

  saveState(): Promise<Uint8Array> {
    return this.request({ op: 'save' });
  }

  async loadState(bytes: Uint8Array): Promise<void> {
    await this.request({ op: 'load', bytes });
  }

  evaluator(): CandidateEvaluator {
    return {
      validationBatchLoss: (architecture, batch) => this.request<number>({ op: 'validationBatchLoss', architecture: [...architecture], batch }),
      fullValidation: (architecture, candidate) => this.request<FullValidationResult>({ op: 'fullValidation', architecture: [...architecture], candidate }),
    };
  }

  /** Ends the training thread (its tfjs engine, wasm memory and dataset go with it). */
  async dispose(): Promise<void> {
    this.failure ??= new Error('the off-thread trainer was disposed');
    await this.worker.terminate();
  }

  private request<T>(body: ThreadRequestBody): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...body, id } satisfies ThreadRequest);
    });
  }

  private settle(reply: Extract<ThreadReply, { id: number }>): void {
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.kind === 'result') waiting?.resolve(reply.value);
    else waiting?.reject(new Error(`training thread: ${reply.message}`));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
  }
}
