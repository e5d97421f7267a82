import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/database/database.js';
import { EventStore } from '../../src/events/event-store.js';
import type { StoredEvent } from '../../src/events/stored-event.js';
import { ExperimentStateError, LeaseConflictError } from '../../src/experiments/errors.js';
import type { StreamStore } from '../../src/events/stream-store.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { presetSpace } from '../../src/search-space/presets.js';
import { runHierarchicalSearch } from '../../src/search/hierarchical.js';
import { runSearchOnExperiment } from '../../src/experiments/search-runner.js';
import { searchSettings } from '../../src/search/settings.js';
import type { CandidateEvaluator } from '../../src/search/evaluator.js';
import type { SearchEvent } from '../../src/search/session.js';
import { MemoryEventStore } from '../../src/events/memory-event-store.js';
import { testBackends } from '../support/databases.js';
import { syntheticLoss } from '../tree/helpers.js';
import { fakeEvaluator } from '../search/fake-evaluator.js';

const request = {
  name: 'runner-spec',
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 30, mctSteps: 40 },
  dataset: { kind: 'synthetic' },
  search: { candidates: 5 },
  seed: 3,
};

/** An experiment trained to the end through ask/tell, with the lease still held. */
async function trained(service: ExperimentService<StreamStore>, id: string, workerId = 'w1') {
  await service.create(request, { id });
  const lease = await service.acquireLease(id, workerId, 600_000);
  const loss = syntheticLoss(1);
  for (let sample = await service.ask(id, lease.leaseId); sample; sample = await service.ask(id, lease.leaseId)) {
    await service.tell(id, lease.leaseId, sample.step, loss(sample.architecture, sample.step));
  }
  return lease.leaseId;
}

const searchEvents = (events: readonly StoredEvent[]) => events.filter((e) => e.idempotencyKey?.startsWith('search:'));
const typeAndData = (events: readonly { type: string; data: unknown }[]) => events.map((e) => ({ type: e.type, data: e.data }));
/** Lease events carry a random id and wall-clock times: they differ between any two runs. */
const withoutLeases = (events: readonly StoredEvent[]) => events.filter((e) => !e.type.startsWith('Worker'));

/** An evaluator that aborts `controller` once it has answered `limit` full validations. */
function abortingAfter(limit: number, controller: AbortController, inner: CandidateEvaluator): CandidateEvaluator {
  let answered = 0;
  return {
    validationBatchLoss: (a, i) => inner.validationBatchLoss(a, i),
    fullValidation: async (a, c) => {
      const result = await inner.fullValidation(a, c);
      if (++answered === limit) controller.abort();
      return result;
    },
  };
}

describe('running a search on an experiment (in memory)', () => {
  const newService = () => {
    const store = new MemoryEventStore();
    return new ExperimentService(store, new ExperimentProjections(store));
  };

  it('records the strategy\'s events one by one, keyed by search and index, after one PhaseChanged to search; they are exactly the strategy\'s own decisions', async () => {
    const service = newService();
    const leaseId = await trained(service, 'e');
    const before = await service.projections.current('e');
    const outcome = await runSearchOnExperiment(service, 'e', { leaseId, evaluator: fakeEvaluator(1) });

    const events = await service.store.readStream('e', { fromVersion: before.version + 1 });
    assert.equal(events[0]!.type, 'PhaseChanged');
    assert.deepEqual(events[0]!.data, { step: 80, from: 'mct-sampling', to: 'search' });
    assert.equal(events[0]!.idempotencyKey, 'phase:search');
    const recorded = events.slice(1);
    assert.deepEqual(recorded.map((e) => e.idempotencyKey), recorded.map((_, i) => `search:search-1:${i}`));
    assert.ok(recorded.every((e) => e.metadata.workerId === 'w1'));
    assert.equal(recorded[0]!.type, 'SearchStarted');
    assert.equal(recorded.at(-1)!.type, 'SearchCompleted');

    const direct: SearchEvent[] = [];
    const state = before.tree;
    const alone = await runHierarchicalSearch(state, presetSpace('nas-bench-macro'), searchSettings(state, 'search-1'), { evaluator: fakeEvaluator(1), emit: (e) => void direct.push(e) });
    assert.deepEqual(typeAndData(recorded), typeAndData(direct));
    assert.deepEqual(outcome, alone);
    assert.equal(outcome.evaluated.length, 5, 'K from the experiment');
  });

  it('gives the next search the next id and appends PhaseChanged only once', async () => {
    const service = newService();
    const leaseId = await trained(service, 'e');
    await runSearchOnExperiment(service, 'e', { leaseId, evaluator: fakeEvaluator(1) });
    const second = await runSearchOnExperiment(service, 'e', { leaseId, evaluator: fakeEvaluator(1), strategy: 'random', candidates: 3 });
    assert.equal(second.searchId, 'search-2');
    assert.equal(second.strategy, 'random');
    assert.equal(second.evaluated.length, 3);
    const events = await service.store.readStream('e');
    assert.equal(events.filter((e) => e.type === 'PhaseChanged' && e.data.to === 'search').length, 1);
    assert.equal(events.filter((e) => e.idempotencyKey?.startsWith('search:search-2:')).length, 5);
  });

  it('given a search interrupted after two full evaluations, when run again, then it resumes: the stream ends as an uninterrupted run\'s and recorded answers are not asked again', async () => {
    const reference = newService();
    const referenceLease = await trained(reference, 'e');
    await runSearchOnExperiment(reference, 'e', { leaseId: referenceLease, evaluator: fakeEvaluator(1) });

    const service = newService();
    const leaseId = await trained(service, 'e');
    const controller = new AbortController();
    await assert.rejects(
      runSearchOnExperiment(service, 'e', { leaseId, evaluator: abortingAfter(2, controller, fakeEvaluator(1)), signal: controller.signal }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
    const stored = searchEvents(await service.store.readStream('e'));
    assert.equal(stored.filter((e) => e.type === 'CandidateEvaluated').length, 2);
    assert.ok(!stored.some((e) => e.type === 'SearchCompleted'));

    await assert.rejects(runSearchOnExperiment(service, 'e', { leaseId, evaluator: fakeEvaluator(1), searchId: 'search-2' }), ExperimentStateError, 'no new search while one is interrupted');
    await assert.rejects(runSearchOnExperiment(service, 'e', { leaseId, evaluator: fakeEvaluator(1), strategy: 'random' }), ExperimentStateError, 'a resumed search keeps its strategy');

    const evaluator = fakeEvaluator(1);
    const resumed = await runSearchOnExperiment(service, 'e', { leaseId, evaluator });
    assert.equal(resumed.searchId, 'search-1');
    assert.equal(evaluator.fullCalls.length, 3, 'only the three candidates not yet evaluated');
    const recordedBatches = stored.filter((e) => e.type === 'ValidationBatchEvaluated').length;
    assert.equal(evaluator.batchCalls.length, resumed.validationBatchEvaluations - recordedBatches);
    assert.deepEqual(typeAndData(withoutLeases(await service.store.readStream('e'))), typeAndData(withoutLeases(await reference.store.readStream('e'))));
  });

  it('given a completed search, when it is named again, then it is replayed to the same outcome without appending or evaluating anything', async () => {
    const service = newService();
    const leaseId = await trained(service, 'e');
    const first = await runSearchOnExperiment(service, 'e', { leaseId, evaluator: fakeEvaluator(1) });
    const version = (await service.projections.current('e')).version;
    const evaluator = fakeEvaluator(1);
    const again = await runSearchOnExperiment(service, 'e', { leaseId, evaluator, searchId: 'search-1' });
    assert.deepEqual(again, first);
    assert.equal((await service.projections.current('e')).version, version);
    assert.equal(evaluator.fullCalls.length + evaluator.batchCalls.length, 0);
  });

  it('refuses to search without the lease, or before training is over', async () => {
    const service = newService();
    await trained(service, 'e');
    await assert.rejects(runSearchOnExperiment(service, 'e', { leaseId: 'not-mine', evaluator: fakeEvaluator(1) }), LeaseConflictError);
    await service.create(request, { id: 'young' });
    const lease = await service.acquireLease('young', 'w1');
    const sample = (await service.ask('young', lease.leaseId))!;
    await service.tell('young', lease.leaseId, sample.step, 1);
    await assert.rejects(runSearchOnExperiment(service, 'young', { leaseId: lease.leaseId, evaluator: fakeEvaluator(1) }), ExperimentStateError);
  });
});

for (const backend of testBackends) {
  describe(`running a search on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(() => db.close());

    it('given an interrupted search, then resuming it from the database reproduces the in-memory uninterrupted run', async () => {
      const memoryStore = new MemoryEventStore();
      const memory = new ExperimentService(memoryStore, new ExperimentProjections(memoryStore));
      const memoryLease = await trained(memory, 'e');
      await runSearchOnExperiment(memory, 'e', { leaseId: memoryLease, evaluator: fakeEvaluator(2), strategy: 'evolutionary' });

      const store = new EventStore(db);
      const service = new ExperimentService(store, new ExperimentProjections(store));
      const leaseId = await trained(service, 'e');
      const controller = new AbortController();
      await assert.rejects(runSearchOnExperiment(service, 'e', { leaseId, evaluator: abortingAfter(3, controller, fakeEvaluator(2)), strategy: 'evolutionary', signal: controller.signal }));
      // A fresh process: new projections, nothing in memory but the database.
      const restarted = new ExperimentService(store, new ExperimentProjections(store));
      await runSearchOnExperiment(restarted, 'e', { leaseId, evaluator: fakeEvaluator(2) });
      assert.deepEqual(typeAndData(searchEvents(await store.readStream('e'))), typeAndData(searchEvents(await memoryStore.readStream('e'))));
    });
  });
}
