import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/database/database.js';
import { IdempotencyConflictError } from '../../src/events/errors.js';
import { EventStore } from '../../src/events/event-store.js';
import { LeaseConflictError, StepOrderError } from '../../src/experiments/errors.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentRequestError } from '../../src/experiments/experiment-request.js';
import { type Clock, ExperimentService } from '../../src/experiments/experiment-service.js';
import { withCode } from '../support/errors.js';
import { fold } from '../../src/tree/evolve.js';
import { toPlain } from '../../src/tree/state.js';
import { testBackends } from '../support/databases.js';
import type { ProjectionSnapshots } from '../../src/experiments/ports.js';
import { createRuntime } from '../../src/runtime.js';

const request = {
  name: 'spec',
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 20, mctSteps: 30 },
  dataset: { kind: 'synthetic' },
  seed: 7,
};

/** A deterministic stand-in loss: depends on the architecture so the tree has signal. */
const lossOf = (architecture: readonly number[], step: number) => 2.5 - architecture.reduce((a, b) => a + b, 0) * 0.05 + (step % 7) * 0.01;

class ManualClock implements Clock {
  constructor(public time = Date.parse('2026-11-28T12:00:00Z')) {}
  now() {
    return new Date(this.time);
  }
}

for (const backend of testBackends) {
  describe(`experiment commands on ${backend.name}`, () => {
    let db: Database;
    let store: EventStore;
    let snapshots: ProjectionSnapshots;
    let projections: ExperimentProjections;
    let service: ExperimentService;
    const clock = new ManualClock();
    before(async () => {
      db = await backend.open();
      ({ store, projections, service, snapshots } = createRuntime(db, { projections: { snapshotEvery: 25, pageSize: 40 }, clock }));
    });
    after(() => db.close());

    it('given a bad request, then creation fails naming the field and writes nothing', async () => {
      await assert.rejects(service.create({ ...request, schedule: { stepsPerEpoch: 0 } }), (e: unknown) => e instanceof ExperimentRequestError && e.field.startsWith('schedule'));
      await assert.rejects(service.create({ ...request, hyperparameters: { tau: -1 } }), (e: unknown) => e instanceof ExperimentRequestError && e.field === 'hyperparameters.tau');
      assert.deepEqual(await createRuntime(db).index.list(), []);
    });

    it('given an ask/tell loop through all phases, then the live tree equals a rebuild from the events, with and without snapshots, and as of any position', async () => {
      const { id } = await service.create(request);
      const lease = await service.acquireLease(id, 'worker-a');
      for (;;) {
        const sample = await service.ask(id, lease.leaseId);
        if (!sample) break;
        assert.deepEqual(await service.ask(id, lease.leaseId), sample, 'asking again returns the pending sample');
        await service.tell(id, lease.leaseId, sample.step, lossOf(sample.architecture, sample.step));
      }
      const events = await store.readStream(id);
      const types = new Set(events.map((e) => e.type));
      for (const t of ['ExperimentCreated', 'PhaseChanged', 'ArchitectureSampled', 'RewardRecorded', 'VisitCountsUpdated']) assert.ok(types.has(t as never), t);
      assert.deepEqual(events.filter((e) => e.type === 'PhaseChanged').map((e) => (e.data as { to: string }).to), ['warmup', 'tree-building', 'mct-sampling']);
      assert.equal(events.filter((e) => e.type === 'RewardRecorded').length, 60);
      assert.equal(events.filter((e) => e.type === 'ArchitectureSampled' && (e.data as { sampler: string }).sampler === 'mct').length, 30);

      const live = await projections.current(id);
      const rebuilt = fold(events);
      assert.deepEqual(toPlain(live.tree), toPlain(rebuilt));
      assert.equal(live.tree.tree!.n[0], 50, 'root visited once per tree-building and MCT step');

      const [stored] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM projection_snapshots WHERE stream_id = $1', [id]);
      assert.ok(Number(stored!.n) > 0, 'snapshots were written');
      const fresh = new ExperimentProjections(store, { snapshots });
      assert.deepEqual(toPlain((await fresh.current(id)).tree), toPlain(rebuilt), 'loading from the newest snapshot gives the same tree');
      await db.query('DELETE FROM projection_snapshots WHERE stream_id = $1', [id]);
      assert.deepEqual(toPlain((await new ExperimentProjections(store).current(id)).tree), toPlain(rebuilt), 'deleting every snapshot gives the same tree');

      const middle = events[Math.floor(events.length / 2)]!;
      const asOf = await projections.at(id, middle.position);
      assert.equal(asOf.position, middle.position);
      assert.deepEqual(toPlain(asOf.tree), toPlain(fold(events.filter((e) => e.position <= middle.position))));
    });

    it('given tellAndAsk (a step\'s reward and the next sample in one append), then the history equals the ask/tell loop\'s event for event and the writer\'s projection, advanced from its appends, equals a rebuild', async () => {
      const stepwise = (await service.create(request)).id;
      const fused = (await service.create(request)).id;
      const a = await service.acquireLease(stepwise, 'worker-a');
      const b = await service.acquireLease(fused, 'worker-a');
      for (let sample = await service.ask(stepwise, a.leaseId); sample; sample = await service.ask(stepwise, a.leaseId)) {
        await service.tell(stepwise, a.leaseId, sample.step, lossOf(sample.architecture, sample.step));
      }
      let appends = 0;
      const append = store.append.bind(store);
      store.append = (...args) => ((appends += 1), append(...args));
      try {
        for (let sample = await service.ask(fused, b.leaseId); sample; ) {
          const told = await service.tellAndAsk(fused, b.leaseId, sample.step, lossOf(sample.architecture, sample.step));
          assert.equal(told.next?.step ?? 60, sample.step + 1);
          sample = told.next;
        }
      } finally {
        store.append = append;
      }
      assert.equal(appends, 1 + 60, 'the first ask, then one append per step');
      const history = async (id: string) => (await store.readStream(id)).filter((e) => !e.type.startsWith('WorkerLease')).map((e) => ({ type: e.type, version: e.streamVersion, data: e.data }));
      assert.deepEqual(await history(fused), await history(stepwise));
      const events = await store.readStream(fused);
      const live = await projections.read(fused, (view) => ({ tree: toPlain(view.tree), version: view.version, position: view.position }));
      assert.deepEqual(live, { tree: toPlain(fold(events)), version: events.length, position: events.at(-1)!.position });
    });

    it('given another writer appending to the stream, when this writer tells ahead, then its decision is taken again on the caught-up history; a commit that fails leaves no trace in its projection', async () => {
      const { id } = await service.create(request);
      const lease = await service.acquireLease(id, 'worker-a');
      const other = createRuntime(db, { clock }).service;
      let sample = (await service.ask(id, lease.leaseId))!;
      // someone else appends (a heartbeat through another process's projections): a version conflict, then a catch-up
      await other.heartbeat(id, lease.leaseId);
      const ahead = service.tellAhead(id, lease.leaseId, sample.step, 2.0);
      assert.deepEqual((await ahead.decided)?.architecture, (await ahead.committed).next?.architecture);
      sample = (await ahead.committed).next!;
      // the other writer records this step with another loss while this one's commit is decided on the older head
      await other.tell(id, lease.leaseId, sample.step, 1.5);
      const conflicting = service.tellAhead(id, lease.leaseId, sample.step, 2.0);
      await assert.rejects(conflicting.committed, IdempotencyConflictError);
      const events = await store.readStream(id);
      assert.deepEqual(toPlain((await projections.current(id)).tree), toPlain(fold(events)), 'the staged reward was dropped with the failed commit');
      assert.equal((await service.tellAndAsk(id, lease.leaseId, sample.step, 1.5)).duplicate, true, 'the recorded step answers as recorded');
    });

    it('given a recorded step, when the loss is told again, then it is not double-counted; a different loss is a conflict', async () => {
      const { id } = await service.create(request);
      const lease = await service.acquireLease(id, 'worker-a');
      const sample = (await service.ask(id, lease.leaseId))!;
      const first = await service.tell(id, lease.leaseId, sample.step, 2.0);
      const retry = await service.tell(id, lease.leaseId, sample.step, 2.0);
      assert.equal(retry.duplicate, true);
      assert.equal(retry.position, first.position);
      assert.equal((await store.readStream(id, { types: ['RewardRecorded'] })).length, 1);
      await assert.rejects(service.tell(id, lease.leaseId, sample.step, 3.0), IdempotencyConflictError);
      await assert.rejects(service.tell(id, lease.leaseId, 5, 2.0), StepOrderError);
      await assert.rejects(service.tell(id, lease.leaseId, 1, Number.NaN), withCode('InvalidLossError'));
      await assert.rejects(service.tell(id, lease.leaseId, 1, -1), withCode('InvalidLossError'));
    });

    it('given a lease held by one worker, then another is refused until it expires, and the takeover records the expiry', async () => {
      const { id } = await service.create(request);
      const a = await service.acquireLease(id, 'worker-a', 10_000);
      await assert.rejects(service.acquireLease(id, 'worker-b'), LeaseConflictError);
      await assert.rejects(service.ask(id, 'not-the-lease'), LeaseConflictError);
      clock.time += 11_000;
      await assert.rejects(service.ask(id, a.leaseId), LeaseConflictError, 'an expired lease no longer authorizes steps');
      const b = await service.acquireLease(id, 'worker-b');
      const types = (await store.readStream(id)).map((e) => e.type);
      assert.deepEqual(types.slice(-2), ['WorkerLeaseExpired', 'WorkerLeaseAcquired']);
      assert.ok(await service.ask(id, b.leaseId));
    });
  });
}
