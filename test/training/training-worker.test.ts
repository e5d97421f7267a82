import { createRuntime } from '../../src/runtime.js';
import { LocalDirectoryCheckpointStore } from '../../src/adapters/filesystem/checkpoint-store.js';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Database, DatabaseUnavailableError } from '../../src/database/database.js';
import { EventStore } from '../../src/events/event-store.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { TrainingWorker } from '../../src/training/training-worker.js';
import { fold } from '../../src/tree/evolve.js';
import { toPlain } from '../../src/tree/state.js';
import { testBackends } from '../support/databases.js';
import { ToyTrainer } from '../support/toy-trainer.js';

const request = {
  name: 'worker-spec',
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 15, mctSteps: 25 },
  dataset: { kind: 'synthetic' },
  seed: 11,
};
const opCounts = [3, 3, 3, 3, 3, 3, 3, 3];

/** The step history that must not depend on interruptions: (type, step, payload). */
async function stepHistory(store: EventStore, id: string) {
  const events = await store.readStream(id, { types: ['ArchitectureSampled', 'RewardRecorded', 'VisitCountsUpdated', 'PhaseChanged'] });
  return events.map((e) => [e.type, e.data]);
}

for (const backend of testBackends) {
  describe(`stream-driven training worker on ${backend.name}`, () => {
    let db: Database;
    let store: EventStore;
    let service: ExperimentService;
    const checkpoints = new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-ckpt-')));
    before(async () => {
      db = await backend.open();
      ({ store, service } = createRuntime(db, { projections: { snapshotEvery: 30 } }));
    });
    after(() => db.close());

    it('given an experiment, when one worker trains it to the end, then every step is sampled, rewarded and checkpointed once', async () => {
      const { id } = await service.create(request);
      const worker = new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w1', checkpoints, checkpointEvery: 10 });
      const outcome = await worker.train(id);
      assert.equal(outcome.status, 'finished');
      assert.equal(outcome.liveSteps, 50);
      assert.equal(outcome.lastStep, 49);
      const events = await store.readStream(id);
      assert.deepEqual(events.filter((e) => e.type === 'RewardRecorded').map((e) => (e.data as { step: number }).step), Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(events.filter((e) => e.type === 'CheckpointSaved').map((e) => (e.data as { step: number }).step), [9, 19, 29, 39, 49]);
      assert.equal(events.filter((e) => e.type === 'TrainingBackendSelected').length, 1);
    });

    it('given a checkpoint step, then the next step trains while the checkpoint is written, its sample is recorded after the checkpoint, and the checkpoint holds the state after its step', async () => {
      const { id } = await service.create(request);
      const trainer = new ToyTrainer(opCounts);
      /** per checkpoint but the last: whether the next step had started before its file was stored */
      const overlapped: boolean[] = [];
      const store10 = new (class extends LocalDirectoryCheckpointStore {
        override async put(key: string, bytes: Uint8Array) {
          const step = 10 * (overlapped.length + 1) - 1;
          if (step < 49) {
            const deadline = Date.now() + 2000;
            while (!trainer.trainedSteps.includes(step + 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
            overlapped.push(trainer.trainedSteps.includes(step + 1));
          }
          return super.put(key, bytes);
        }
      })(mkdtempSync(join(tmpdir(), 'mctnas-ckpt-overlap-')));
      const outcome = await new TrainingWorker(service, trainer, { workerId: 'w1', checkpoints: store10, checkpointEvery: 10 }).train(id);
      assert.equal(outcome.status, 'finished');
      assert.deepEqual(overlapped, [true, true, true, true]);
      assert.deepEqual(trainer.trainedSteps, Array.from({ length: 50 }, (_, i) => i), 'every step trained once');
      const events = await store.readStream(id);
      const position = (type: string, step: number) => events.find((e) => e.type === type && (e.data as { step: number }).step === step)!.position;
      for (const step of [9, 19, 29, 39]) assert.ok(position('CheckpointSaved', step) < position('ArchitectureSampled', step + 1), `checkpoint ${step} recorded before the sample of step ${step + 1}`);
      const saved = events.find((e) => e.type === 'CheckpointSaved' && (e.data as { step: number }).step === 39)!.data as { location: string; sha256: string };
      const file = await store10.readVerified(saved.location, saved.sha256);
      const reference = new ToyTrainer(opCounts);
      for (const e of events.filter((e) => e.type === 'ArchitectureSampled').slice(0, 40)) await reference.trainStep((e.data as { step: number }).step, (e.data as { architecture: number[] }).architecture);
      assert.ok('bytes' in file && Buffer.from(file.bytes).equals(Buffer.from(reference.saveState())), 'the state after step 39 (a retained checkpoint), not after 40');
    });

    it('given write-behind commits that fail while the next step trains (one before it is stored, one after: ambiguous), then the worker retries them, trains every step exactly once and writes the uninterrupted history', async () => {
      const reference = await service.create(request);
      await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w1', checkpoints, checkpointEvery: 10 }).train(reference.id);
      const { id } = await service.create(request);
      const append = store.append.bind(store);
      let stepCommits = 0;
      const failed: string[] = [];
      store.append = async (...args) => {
        const writeBehind = args[2].some((e) => e.type === 'RewardRecorded') && args[2].some((e) => e.type === 'ArchitectureSampled');
        const n = writeBehind ? ++stepCommits : 0;
        if (n === 12) {
          failed.push('before');
          throw new DatabaseUnavailableError(new Error('connection refused (before the commit)'));
        }
        const result = await append(...args);
        if (n === 23 || n === 24) {
          failed.push('after');
          throw new DatabaseUnavailableError(new Error('connection lost (after the commit)'));
        }
        return result;
      };
      const trainer = new ToyTrainer(opCounts);
      try {
        const outcome = await new TrainingWorker(service, trainer, { workerId: 'w1', checkpoints, checkpointEvery: 10 }).train(id);
        assert.equal(outcome.status, 'finished');
      } finally {
        store.append = append;
      }
      assert.deepEqual(failed, ['before', 'after', 'after']);
      assert.deepEqual(trainer.trainedSteps, Array.from({ length: 50 }, (_, i) => i), 'no step trained twice or skipped');
      assert.deepEqual(await stepHistory(store, id), await stepHistory(store, reference.id));
      assert.deepEqual(toPlain((await service.projections.current(id)).tree), toPlain(fold(await store.readStream(id))));
    });

    it('given runs interrupted every few steps and a corrupted newest checkpoint, then resuming reproduces the uninterrupted history exactly', async () => {
      const reference = await service.create(request);
      await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w1', checkpoints, checkpointEvery: 4 }).train(reference.id);

      const { id } = await service.create(request);
      const reports = [];
      for (let round = 0; round < 20; round++) {
        // A fresh trainer each time: nothing survives but the events and the checkpoint files.
        const worker = new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: `w-${round % 2}`, checkpoints, checkpointEvery: 4, maxLiveSteps: 7 });
        const outcome = await worker.train(id);
        reports.push(outcome.resume);
        if (round === 2) {
          const view = await service.projections.current(id);
          const newest = view.status.checkpoints.at(-1)!;
          writeFileSync(checkpoints.resolveLocation(newest.location)!, 'torn');
        }
        if (outcome.status === 'finished') break;
      }
      assert.ok(reports.some((r) => r.rejectedCheckpoints.length > 0), 'the corrupted checkpoint was rejected and an older one used');
      assert.ok(reports.some((r) => r.replayedSteps > 0), 'steps after the checkpoint were re-trained from their recorded paths');
      assert.ok(reports.every((r) => r.replayMismatches === 0), 'replayed losses equal the recorded ones');
      assert.deepEqual(await stepHistory(store, id), await stepHistory(store, reference.id));
      const tree = fold(await store.readStream(id));
      const referenceTree = fold(await store.readStream(reference.id));
      assert.deepEqual(toPlain(tree).nodes, toPlain(referenceTree).nodes);
    });
  });
}

describe('running an experiment to its result (PGlite)', () => {
  it('given a fresh experiment, then it trains, searches, completes, and running it again changes nothing', async () => {
    const { runExperiment } = await import('../../src/training/run-experiment.js');
    const db = await testBackends.find((b) => b.name === 'pglite')!.open();
    try {
      const store = new EventStore(db);
      const service = new ExperimentService(store, new ExperimentProjections(store));
      const { id } = await service.create({ ...request, search: { candidates: 5, topK: 3 } });
      const checkpoints = new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-run-')));
      const factory = async () => new ToyTrainer(opCounts);
      const first = await runExperiment(service, id, factory, { workerId: 'w', checkpoints, checkpointEvery: 10 });
      assert.equal(first.lifecycle, 'completed');
      assert.equal(first.search!.evaluated.length, 5);
      const types = (await store.readStream(id)).map((e) => e.type);
      assert.equal(types.at(-1), 'ExperimentCompleted');
      assert.equal(types.filter((t) => t === 'SearchCompleted').length, 1);
      const count = types.length;
      const again = await runExperiment(service, id, factory, { workerId: 'w', checkpoints, checkpointEvery: 10 });
      assert.equal(again.lifecycle, 'completed');
      assert.equal((await store.readStream(id)).length, count);
    } finally {
      await db.close();
    }
  });
});
