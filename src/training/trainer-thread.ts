/**
 * Entry point of the training thread (a `worker_thread` started by OffThreadTrainer): it builds
 * the SupernetTrainer of the experiment in `workerData` (its own tfjs engine and wasm instance,
 * its own copy of the dataset) and answers the service thread's requests one at a time, in the
 * order they were posted. The supernet's state never leaves this thread except as checkpoint
 * bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TreeEventData } from '../tree/events.js';
import type { ThreadReply, ThreadRequest } from './off-thread-trainer.js';
import { SupernetTrainer } from './supernet-trainer.js';

const port = parentPort!;
const post = (reply: ThreadReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

const trainer = await SupernetTrainer.create(workerData as TreeEventData<'ExperimentCreated'>, (line) => post({ kind: 'log', line }));
const evaluator = trainer.evaluator();

async function answer(request: ThreadRequest): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  switch (request.op) {
    case 'train':
      return { value: await trainer.trainStep(request.step, request.architecture) };
    case 'save': {
      // A fresh buffer of exactly the state's bytes, moved (not copied) to the service thread.
      const bytes = Uint8Array.from(await trainer.saveState());
      return { value: bytes, transfer: [bytes.buffer] };
    }
    case 'load':
      await trainer.loadState(request.bytes);
      return { value: null };
    case 'validationBatchLoss':
      return { value: await evaluator.validationBatchLoss(request.architecture, request.batch) };
    case 'fullValidation':
      return { value: await evaluator.fullValidation(request.architecture, request.candidate) };
  }
}

/** One request at a time: a step yields to the event loop before it computes, and a save posted after it must see its weights. */
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: ThreadRequest) => {
  queue = queue.then(() =>
    answer(request).then(
      ({ value, transfer }) => post({ kind: 'result', id: request.id, value }, transfer),
      (error: unknown) => post({ kind: 'error', id: request.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    ),
  );
});
post({ kind: 'ready', backend: trainer.backend });
