import assert from 'node:assert/strict';
import { Global, Module } from '@nestjs/common';
import { after, before, describe, it } from 'node:test';
import { SEARCH_LAUNCHER, type SearchLauncher, type SearchStartOptions } from '../../src/api/search/search-launcher.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, countEvents, smallRun, startApi } from './support.js';

/** Stands in for the trainer: records a tiny two-candidate search as events. */
class RecordingLauncher implements SearchLauncher {
  service: ExperimentService | null = null;
  readonly calls: { experimentId: string; options: SearchStartOptions }[] = [];

  async start(experimentId: string, options: SearchStartOptions): Promise<{ searchId: string }> {
    this.calls.push({ experimentId, options });
    const searchId = `search-${this.calls.length}`;
    const a = [2, 2, 2, 1, 2, 2, 2, 0];
    const b = [1, 1, 1, 1, 1, 1, 1, 1];
    const candidate = (index: number, architecture: number[], top1: number) => ({
      type: 'CandidateEvaluated',
      data: { searchId, candidate: index, architecture, top1, top5: null, loss: 1, flops: 1e6, params: 1e5 },
    });
    await this.service!.append(experimentId, [
      { type: 'SearchStarted', data: { searchId, strategy: options.strategy ?? 'hierarchical', candidates: options.candidates ?? 2, topK: 2, referenceLoss: 1.2, flopsWindow: null, scope: 'trained', tree: 'as-trained', updateDataFreq: 1000, shortlist: null } },
      { type: 'ValidationBatchEvaluated', data: { searchId, evaluation: 0, batch: 0, architecture: a, loss: 1.1, reward: 1.2 / 1.1 } },
      { type: 'ValidationBatchEvaluated', data: { searchId, evaluation: 1, batch: 0, architecture: b, loss: 1.3, reward: 1.2 / 1.3 } },
      candidate(0, a, 91.5),
      { type: 'CandidateRemoved', data: { searchId, architecture: a, reason: 'evaluated' } },
      candidate(1, b, 90.25),
      { type: 'CandidateRemoved', data: { searchId, architecture: b, reason: 'evaluated' } },
      { type: 'SearchCompleted', data: { searchId, best: { architecture: a, top1: 91.5 }, top: [{ architecture: a, top1: 91.5 }, { architecture: b, top1: 90.25 }], validationBatchEvaluations: 2 } },
    ]);
    return { searchId };
  }
}

const launcher = new RecordingLauncher();

@Global()
@Module({ providers: [{ provide: SEARCH_LAUNCHER, useValue: launcher }], exports: [SEARCH_LAUNCHER] })
class TrainerModule {}

describe('starting and reading a search on postgres', () => {
  let api: ApiHarness;
  let id: string;

  before(async () => {
    api = await startApi(testBackends.find((b) => b.name === 'postgres')!, {}, [TrainerModule]);
    launcher.service = api.app.get(ExperimentService);
    id = (await api.http.post('/experiments').set(auth).send(smallRun).expect(201)).body.id;
  });
  after(() => api.close());

  it('given a trainer attached, when a search is started, then the launcher gets it and the results read back from the events', async () => {
    const before = (await api.http.get(`/experiments/${id}`).expect(200)).body.position as number;
    const started = await api.http.post(`/experiments/${id}/search`).set(auth).send({ strategy: 'random', candidates: 2 }).expect(202);
    assert.deepEqual(launcher.calls, [{ experimentId: id, options: { strategy: 'random', candidates: 2 } }]);
    assert.equal(started.body.searchId, 'search-1');
    const read = await api.http.get(`/experiments/${id}/search`).expect(200);
    const [search] = read.body.searches;
    assert.equal(search.searchId, 'search-1');
    assert.equal(search.strategy, 'random');
    assert.equal(search.validationBatchEvaluations, 2);
    assert.deepEqual(search.removed, { evaluated: 2 });
    assert.deepEqual(search.evaluations.map((e: { top1: number }) => e.top1), [91.5, 90.25]);
    assert.deepEqual(search.result.best, { architecture: [2, 2, 2, 1, 2, 2, 2, 0], top1: 91.5 });
    const past = await api.http.get(`/experiments/${id}/search`).query({ at: before }).expect(200);
    assert.deepEqual(past.body.searches, [], 'as of before the search, there was none');
  });

  it('given bad search options or an unknown experiment, then nothing reaches the launcher and nothing is written', async () => {
    const calls = launcher.calls.length;
    const events = await countEvents(api.db);
    await api.http.post(`/experiments/${id}/search`).set(auth).send({ strategy: 'greedy' }).expect(400);
    await api.http.post(`/experiments/${id}/search`).set(auth).send({ candidates: 0 }).expect(400);
    await api.http.post('/experiments/exp-unknown/search').set(auth).send({}).expect(404);
    assert.equal(launcher.calls.length, calls);
    assert.equal(await countEvents(api.db), events);
  });
});
