import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventStore } from '../../src/events/event-store.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { runSearchOnExperiment } from '../../src/experiments/search-runner.js';
import type { CandidateEvaluator } from '../../src/search/evaluator.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, startApi, syntheticLoss } from './support.js';

/** A short run (60 training steps) with a hierarchical search of 4 candidates. */
const run = (strategy: string) => ({
  name: `remote-${strategy}`,
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 30, mctSteps: 20 },
  dataset: { kind: 'synthetic' },
  search: { strategy, candidates: 4 },
  seed: 5,
});

/** Deterministic answers the "trainer" gives, the same over HTTP and in process. */
const batchLoss = (architecture: readonly number[], evaluation: number) => syntheticLoss(architecture, evaluation) + 0.01;
const top1 = (architecture: readonly number[]) => 80 + architecture.reduce((a, b, i) => a + b * (i + 1), 0) / 10;
const evaluator: CandidateEvaluator = {
  validationBatchLoss: batchLoss,
  fullValidation: (architecture) => ({ top1: top1(architecture), top5: null, loss: 0.5 }),
};

type Body = Record<string, unknown> & { done: boolean; kind?: string; architecture?: number[] };

async function train(api: ApiHarness, id: string, leaseId: string): Promise<Body> {
  for (;;) {
    const asked = (await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200)).body as Body;
    if (asked.kind !== 'train') return asked;
    await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: asked.step, loss: syntheticLoss(asked.architecture!, asked.step as number) }).expect(200);
  }
}

const answer = (q: Body) =>
  q.kind === 'validation-batch'
    ? { kind: q.kind, searchId: q.searchId, evaluation: q.evaluation, loss: batchLoss(q.architecture!, q.batch as number) }
    : { kind: q.kind, searchId: q.searchId, candidate: q.candidate, top1: top1(q.architecture!), top5: null, loss: 0.5 };

for (const backend of testBackends) {
  describe(`the whole run over ask/tell, search included, on ${backend.name}`, () => {
    let api: ApiHarness;
    before(async () => {
      api = await startApi(backend);
    });
    after(() => api.close());

    for (const strategy of ['hierarchical', 'random']) {
      it(`given a ${strategy} search driven over HTTP with a trainer crash midway, then the history equals an in-process search with the same answers and the experiment completes`, async () => {
        const remote = (await api.http.post('/experiments').set(auth).send(run(strategy)).expect(201)).body.id as string;
        const local = (await api.http.post('/experiments').set(auth).send(run(strategy)).expect(201)).body.id as string;
        let leaseId = (await api.http.post(`/experiments/${remote}/lease`).set(auth).send({ workerId: 'gpu-1', ttlMs: 60_000 }).expect(201)).body.leaseId;
        let question = await train(api, remote, leaseId);
        const kinds = new Set<string>();
        let answered = 0;
        let retried = 0;
        let validations = 0;
        while (!question.done) {
          kinds.add(question.kind!);
          if (question.kind === 'validation-batch') {
            assert.equal(question.evaluation, validations, 'validation questions carry the running evaluation index');
            assert.equal(typeof question.batch, 'number');
            validations += 1;
          }
          const again = (await api.http.post(`/experiments/${remote}/ask`).set(auth).send({ leaseId }).expect(200)).body;
          assert.deepEqual(again, question, 'asking again returns the same pending question');
          const told = await api.http.post(`/experiments/${remote}/search/tell`).set(auth).send({ leaseId, ...answer(question) }).expect(200);
          assert.equal(told.body.duplicate, false);
          answered += 1;
          if (answered % 3 === 1 || question.kind === 'validation-batch') {
            const retry = await api.http.post(`/experiments/${remote}/search/tell`).set(auth).send({ leaseId, ...answer(question) }).expect(200);
            assert.equal(retry.body.duplicate, true, 'a retried answer writes nothing');
            assert.deepEqual(retry.body.next, told.body.next);
            retried += 1;
          }
          if (answered === 3) {
            // The trainer crashes: its lease is released by an operator and another one takes over.
            await api.http.delete(`/experiments/${remote}/lease/${leaseId}`).set(auth).expect(200);
            leaseId = (await api.http.post(`/experiments/${remote}/lease`).set(auth).send({ workerId: 'gpu-2', ttlMs: 60_000 }).expect(201)).body.leaseId;
            const resumed = (await api.http.post(`/experiments/${remote}/ask`).set(auth).send({ leaseId }).expect(200)).body;
            assert.deepEqual({ ...resumed, position: 0 }, { ...told.body.next, position: 0 }, 'the new trainer gets the next unanswered question');
            question = resumed;
            continue;
          }
          question = told.body.next;
        }
        assert.ok(retried > 0 && answered >= 4);
        if (strategy === 'hierarchical') assert.deepEqual([...kinds].sort(), ['full-validation', 'validation-batch']);
        else assert.deepEqual([...kinds], ['full-validation']);
        assert.equal((question.result as { best: { top1: number } }).best.top1, Math.max(...((question.result as { top: { top1: number }[] }).top.map((t) => t.top1))));
        const status = (await api.http.get(`/experiments/${remote}`).expect(200)).body;
        assert.equal(status.lifecycle, 'completed');
        const done = (await api.http.post(`/experiments/${remote}/ask`).set(auth).send({ leaseId }).expect(200)).body;
        assert.equal(done.done, true);
        assert.deepEqual(done.result, question.result);

        // The same run in process: training over HTTP with the same losses, search with the same answers.
        const localLease = (await api.http.post(`/experiments/${local}/lease`).set(auth).send({ workerId: 'gpu-1', ttlMs: 60_000 }).expect(201)).body.leaseId;
        const end = (await api.http.post(`/experiments/${local}/ask`).set(auth).send({ leaseId: localLease, search: false }).expect(200)).body;
        assert.equal(end.kind, 'train');
        await api.http.post(`/experiments/${local}/tell`).set(auth).send({ leaseId: localLease, step: end.step, loss: syntheticLoss(end.architecture, end.step) }).expect(200);
        for (;;) {
          const asked = (await api.http.post(`/experiments/${local}/ask`).set(auth).send({ leaseId: localLease, search: false }).expect(200)).body;
          if (asked.done) {
            assert.equal(asked.result, undefined, 'search: false stops at the end of training');
            break;
          }
          await api.http.post(`/experiments/${local}/tell`).set(auth).send({ leaseId: localLease, step: asked.step, loss: syntheticLoss(asked.architecture, asked.step) }).expect(200);
        }
        await runSearchOnExperiment(api.app.get(ExperimentService), local, { leaseId: localLease, evaluator });
        const store = api.app.get(EventStore);
        const searchEvents = async (id: string) =>
          (await store.readStream(id)).filter((e) => e.idempotencyKey?.startsWith('search:') || e.idempotencyKey === 'phase:search').map((e) => ({ type: e.type, data: e.data, key: e.idempotencyKey }));
        const [a, b] = [await searchEvents(remote), await searchEvents(local)];
        assert.ok(a.length > 5);
        assert.deepEqual(a, b, 'the HTTP-driven search recorded exactly what the in-process search records');
      });
    }

    it('given a search question, when a wrong answer comes, then it is refused and nothing is written', async () => {
      const id = (await api.http.post('/experiments').set(auth).send(run('hierarchical')).expect(201)).body.id as string;
      const leaseId = (await api.http.post(`/experiments/${id}/lease`).set(auth).send({ workerId: 'gpu-1', ttlMs: 60_000 }).expect(201)).body.leaseId;
      const early = await api.http.post(`/experiments/${id}/search/tell`).set(auth).send({ leaseId, kind: 'validation-batch', searchId: 'search-1', evaluation: 0, loss: 1 }).expect(422);
      assert.equal(early.body.code, 'StepOrderError');
      const question = await train(api, id, leaseId);
      const wrongIndex = question.kind === 'validation-batch' ? { evaluation: 5 } : { candidate: 5 };
      const count = async () => (await api.app.get(EventStore).readStream(id)).length;
      const before = await count();
      const other = await api.http.post(`/experiments/${id}/search/tell`).set(auth).send({ leaseId, ...answer(question), ...wrongIndex }).expect(422);
      assert.match(other.body.message, /(validation batch|candidate) 0 of 'search-1'/);
      const missing = await api.http.post(`/experiments/${id}/search/tell`).set(auth).send({ leaseId, kind: 'full-validation', searchId: 'search-1', candidate: 0, loss: 1 }).expect(400);
      assert.equal(missing.body.field, 'body.top1');
      const badLoss = await api.http.post(`/experiments/${id}/search/tell`).set(auth).send({ leaseId, ...answer(question), loss: -1 }).expect(422);
      assert.equal(badLoss.body.statusCode, 422);
      await api.http.post(`/experiments/${id}/search/tell`).set(auth).send({ leaseId: 'not-mine', ...answer(question) }).expect(409);
      assert.equal(await count(), before, 'a refused answer writes nothing');
      await api.http.post(`/experiments/${id}/search/tell`).set(auth).send({ leaseId, ...answer(question) }).expect(200);
      const conflict = await api.http.post(`/experiments/${id}/search/tell`).set(auth).send({ leaseId, ...answer(question), loss: 9 }).expect(409);
      assert.equal(conflict.body.code, 'IdempotencyConflictError');
    });
  });
}
