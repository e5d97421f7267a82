import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalDirectoryCheckpointStore } from '../../src/adapters/filesystem/checkpoint-store.js';
import { retentionPolicy } from '../../src/checkpoints/retention.js';
import { migrate } from '../../src/database/data-source.js';
import type { Database } from '../../src/database/database.js';
import { PgliteDatabase } from '../../src/database/pglite-database.js';
import { EventStore } from '../../src/events/event-store.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { DATABASE_PAUSE_PREFIX, STORAGE_PAUSE_PREFIX, TrainingWorker } from '../../src/training/training-worker.js';
import { fold } from '../../src/tree/evolve.js';
import { toPlain } from '../../src/tree/state.js';
import { mountSmallFilesystem } from '../checkpoints/small-filesystem.js';
import { testBackends } from '../support/databases.js';
import { ToyTrainer } from '../support/toy-trainer.js';

const request = {
  name: 'checkpoint-durability',
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 15, mctSteps: 25 },
  dataset: { kind: 'synthetic' },
  seed: 5,
};
const opCounts = [3, 3, 3, 3, 3, 3, 3, 3];
const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `mctnas-${name}-`));

async function stepHistory(store: EventStore, id: string) {
  return (await store.readStream(id, { types: ['ArchitectureSampled', 'RewardRecorded', 'VisitCountsUpdated', 'PhaseChanged'] })).map((e) => [e.type, e.data]);
}
const stepsOf = (events: { type: string; data: unknown }[], type: string) => events.filter((e) => e.type === type).map((e) => (e.data as { step: number }).step);
const files = (store: LocalDirectoryCheckpointStore, id: string) => readdirSync(join(store.root, id)).sort();
const fileOf = (step: number) => `step-${String(step).padStart(9, '0')}.ckpt`;

describe('checkpoints that survive a long run (PGlite)', () => {
  let db: Database;
  let store: EventStore;
  let service: ExperimentService;
  let referenceId: string;
  before(async () => {
    db = await testBackends.find((b) => b.name === 'pglite')!.open();
    store = new EventStore(db);
    service = new ExperimentService(store, new ExperimentProjections(store));
    referenceId = (await service.create(request)).id;
    await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'ref', checkpoints: new LocalDirectoryCheckpointStore(tempDir('ref')), checkpointEvery: 5 }).train(referenceId);
  });
  after(() => db.close());

  async function assertSameAsReference(id: string): Promise<void> {
    assert.deepEqual(await stepHistory(store, id), await stepHistory(store, referenceId));
    assert.deepEqual(toPlain(fold(await store.readStream(id))).nodes, toPlain(fold(await store.readStream(referenceId))).nodes);
  }

  it('given keepLast 2, keepEvery 20 and a pin, then exactly the retained checkpoints remain on disk, the audit lists every pruned one, and a resume still works', async () => {
    const checkpoints = new LocalDirectoryCheckpointStore(tempDir('retention'));
    const retention = retentionPolicy({ keepLast: 2, keepEvery: 20 });
    const { id } = await service.create(request);
    const first = await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w', checkpoints, checkpointEvery: 5, retention, maxLiveSteps: 15 }).train(id);
    assert.equal(first.lastStep, 14);
    assert.deepEqual(files(checkpoints, id), [fileOf(9), fileOf(14)]);
    await service.pinCheckpoint(id, 9, 'baseline for a comparison');
    await assert.rejects(service.pinCheckpoint(id, 4, 'x'), /no retained checkpoint of step 4 \(it was pruned\)/);

    const second = await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w', checkpoints, checkpointEvery: 5, retention }).train(id);
    assert.equal(second.status, 'finished');
    assert.equal(second.resume.checkpointStep, 14);
    const events = await store.readStream(id);
    assert.deepEqual(stepsOf(events, 'CheckpointSaved'), [4, 9, 14, 19, 24, 29, 34, 39, 44, 49], 'the audit still shows every checkpoint that existed');
    assert.deepEqual(stepsOf(events, 'CheckpointPruned'), [4, 24, 29, 34], 'and when each went');
    const pruned = events.filter((e) => e.type === 'CheckpointPruned');
    assert.ok(pruned.every((e) => (e.data as { policy: unknown }).policy !== undefined && e.metadata.workerId === 'w'));
    // 9 pinned, 14 the run restored from, 19 and 39 milestones, 44 and 49 the newest two
    assert.deepEqual(files(checkpoints, id), [9, 14, 19, 39, 44, 49].map(fileOf));
    const view = await service.projections.current(id);
    assert.deepEqual(view.status.retainedCheckpoints.map((c) => c.step), [9, 14, 19, 39, 44, 49]);
    assert.deepEqual(view.status.pinnedCheckpoints, [9]);
    await assertSameAsReference(id);

    // a fresh trainer restores the newest retained checkpoint
    const again = await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w', checkpoints, checkpointEvery: 5, retention }).train(id);
    assert.equal(again.resume.checkpointStep, 49);
    assert.deepEqual(again.resume.rejectedCheckpoints, []);
    await service.unpinCheckpoint(id, 9, 'done');
    assert.deepEqual((await service.projections.current(id)).status.pinnedCheckpoints, []);
  });

  it('given the disk fills up (a real tmpfs) mid-run, then the run pauses with the reason recorded, loses nothing, and continues by itself once space is freed', async (t) => {
    const mount = await mountSmallFilesystem(128 * 1024);
    if (!mount) return t.skip('cannot mount a tmpfs here (needs root); the injected-failure test below covers the worker path');
    try {
      const checkpoints = new LocalDirectoryCheckpointStore(join(mount.path, 'checkpoints'));
      const { id } = await service.create(request);
      const filler = join(mount.path, 'filler');
      let failures = 0;
      let duringPause: Promise<void> | null = null;
      const outcome = await new TrainingWorker(service, new ToyTrainer(opCounts), {
        workerId: 'w',
        checkpoints,
        checkpointEvery: 5,
        storageRetryMs: 20,
        onProgress: (p) => {
          if (p.step === 21) mount.fill(filler);
        },
        log: (message) => {
          if (message !== 'checkpoint write failed' || ++failures !== 2) return;
          // the second attempt: the failure and the pause are recorded; look, then free space
          duringPause = (async () => {
            try {
              const view = await service.projections.current(id);
              assert.equal(view.status.lifecycle, 'paused');
              assert.ok(view.status.pausedReason!.startsWith(STORAGE_PAUSE_PREFIX));
              assert.match(view.status.pausedReason!, /step 24 could not be written \(ENOSPC\)/);
              assert.deepEqual(view.status.checkpoints.map((c) => c.step), [4, 9, 14, 19]);
              assert.deepEqual(files(checkpoints, id), [4, 9, 14, 19].slice(-3).map(fileOf), 'no partial file; the previous ones intact');
              const previous = view.status.retainedCheckpoints.at(-1)!;
              assert.ok('bytes' in (await checkpoints.readVerified(previous.location, previous.sha256)));
              assert.equal(view.tree.lastRewardedStep, 24, 'the step itself is recorded; only its checkpoint waits');
              await assert.rejects(service.ask(id, view.status.lease!.leaseId), /paused/);
            } finally {
              rmSync(filler, { force: true }); // even when a check failed, so the worker can finish
            }
          })();
        },
      }).train(id);
      await duringPause;
      assert.ok(failures >= 2);
      assert.equal(outcome.status, 'finished');
      const events = await store.readStream(id);
      const types = events.map((e) => e.type);
      const failed = types.indexOf('CheckpointWriteFailed');
      assert.deepEqual(types.slice(failed, failed + 4), ['CheckpointWriteFailed', 'ExperimentPaused', 'CheckpointSaved', 'ExperimentResumed']);
      assert.deepEqual((events[failed]!.data as { failure: string; step: number }), { ...(events[failed]!.data as object), failure: 'ENOSPC', step: 24 });
      assert.equal(types.filter((x) => x === 'CheckpointWriteFailed').length, 1, 'one record per outage, not per retry');
      assert.deepEqual(stepsOf(events, 'CheckpointSaved'), [4, 9, 14, 19, 24, 29, 34, 39, 44, 49]);
      await assertSameAsReference(id);
    } finally {
      mount.unmount();
    }
  });

  it('given a write failure (injected EIO at the store boundary) and the worker stopped while paused, then a new process stores the waiting checkpoint, resumes the experiment and finishes it exactly', async () => {
    let failing = false;
    const checkpoints = new LocalDirectoryCheckpointStore(tempDir('eio'), {
      io: {
        writeSync: (fd, buffer, offset, length) => {
          if (failing) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          return writeSync(fd, buffer, offset, length);
        },
      },
    });
    const { id } = await service.create(request);
    const controller = new AbortController();
    const stopped = await new TrainingWorker(service, new ToyTrainer(opCounts), {
      workerId: 'w',
      checkpoints,
      checkpointEvery: 5,
      storageRetryMs: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.step === 31) failing = true;
      },
      log: (message) => {
        if (message === 'checkpoint write failed') setTimeout(() => controller.abort(), 30);
      },
    }).train(id);
    assert.equal(stopped.status, 'paused');
    assert.equal(stopped.lastStep, 34);
    let view = await service.projections.current(id);
    assert.equal(view.status.lifecycle, 'paused');
    assert.equal(view.status.checkpointFailure?.failure, 'EIO');
    assert.equal(view.status.lease, null, 'the lease was released');
    assert.deepEqual(files(checkpoints, id), [19, 24, 29].map(fileOf));

    failing = false;
    const resumed = await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w2', checkpoints, checkpointEvery: 5 }).train(id);
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.resume.checkpointStep, 29);
    assert.equal(resumed.resume.replayedSteps, 5, 'steps 30-34 re-trained from their recorded paths');
    assert.equal(resumed.resume.replayMismatches, 0);
    view = await service.projections.current(id);
    assert.equal(view.status.checkpointFailure, null);
    assert.deepEqual(view.status.checkpoints.map((c) => c.step), [4, 9, 14, 19, 24, 29, 34, 39, 44, 49]);
    await assertSameAsReference(id);
  });

  it('given a data directory named relative to one working directory, when the service starts from another, then recorded locations still resolve and the run resumes from its checkpoint', async () => {
    const parent = tempDir('cwd');
    const cwd = process.cwd();
    const { id } = await service.create(request);
    try {
      process.chdir(parent);
      const first = new LocalDirectoryCheckpointStore(join('.mctnas', 'checkpoints'));
      await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w', checkpoints: first, checkpointEvery: 5, maxLiveSteps: 12 }).train(id);
      const recorded = (await service.projections.current(id)).status.retainedCheckpoints.map((c) => c.location);
      assert.ok(recorded.every((l) => l.startsWith(`${id}/`)), `locations relative to the checkpoint root: ${recorded.join(', ')}`);
      process.chdir('/');
      const elsewhere = new LocalDirectoryCheckpointStore(join(relative('/', parent), '.mctnas', 'checkpoints'));
      const resumed = await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'w', checkpoints: elsewhere, checkpointEvery: 5 }).train(id);
      assert.equal(resumed.resume.checkpointStep, 9);
      assert.deepEqual(resumed.resume.rejectedCheckpoints, []);
      assert.equal(resumed.status, 'finished');
    } finally {
      process.chdir(cwd);
    }
    await assertSameAsReference(id);
  });
});

describe('the event database on a full disk (PGlite data directory on a real tmpfs)', () => {
  it('given the PGlite disk fills up mid-run, then the worker waits without losing or doubling a step, records the outage once it can, and finishes exactly', async (t) => {
    const mount = await mountSmallFilesystem(64 * 1024 * 1024);
    if (!mount) return t.skip('cannot mount a tmpfs here (needs root)');
    const db = await PgliteDatabase.open(join(mount.path, 'pglite'));
    try {
      await migrate(db);
      const store = new EventStore(db);
      const service = new ExperimentService(store, new ExperimentProjections(store));
      const checkpoints = new LocalDirectoryCheckpointStore(tempDir('db-full'));
      const reference = (await service.create(request)).id;
      await new TrainingWorker(service, new ToyTrainer(opCounts), { workerId: 'ref', checkpoints, checkpointEvery: 5 }).train(reference);

      const { id } = await service.create(request);
      const filler = join(mount.path, 'filler');
      let waits = 0;
      const outcome = await new TrainingWorker(service, new ToyTrainer(opCounts), {
        workerId: 'w',
        checkpoints,
        checkpointEvery: 5,
        storageRetryMs: 20,
        onProgress: (p) => {
          if (p.step === 17) mount.fill(filler);
        },
        log: (message) => {
          if (message === 'database storage full' && ++waits === 3) rmSync(filler, { force: true });
        },
      }).train(id);
      rmSync(filler, { force: true });
      assert.ok(waits >= 3, 'the database refused writes while the disk was full');
      assert.equal(outcome.status, 'finished');
      assert.deepEqual(await stepHistory(store, id), await stepHistory(store, reference));
      const paused = await store.readStream(id, { types: ['ExperimentPaused', 'ExperimentResumed'] });
      assert.deepEqual(paused.map((e) => e.type), ['ExperimentPaused', 'ExperimentResumed']);
      const reason = (paused[0]!.data as { reason: string }).reason;
      assert.ok(reason.startsWith(DATABASE_PAUSE_PREFIX), reason);
      assert.match(reason, /No space left on device|could not/);
      assert.equal((await service.projections.current(id)).status.lifecycle, 'running');
    } finally {
      await db.close();
      mount.unmount();
    }
  });
});
