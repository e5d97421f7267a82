import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rankingReportOf } from '../../src/analysis/ranking-analysis.js';
import { MemoryEventStore } from '../../src/events/memory-event-store.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { analyseRanking } from '../../src/experiments/ranking-runner.js';
import type { CandidateEvaluator } from '../../src/search/evaluator.js';
import { evolveStatus, initialStatus } from '../../src/experiments/experiment-status.js';
import { createMemoryRuntime } from '../../src/runtime.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, startApi } from '../api/support.js';
import { HAND_MADE_RHO as EXPECTED_RHO, HAND_MADE_TAU as EXPECTED_TAU, handMadeAnalysis, handMadeSupernet, handMadeSupernetTop1, handMadeTable, tinyRequest, trainedTiny } from '../support/ranking-fixture.js';

const table = handMadeTable;
const supernetTop1 = handMadeSupernetTop1;
const options = handMadeAnalysis;
const close = (actual: number | null, expected: number, what: string) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

describe('ranking analysis recorded on an experiment (tiny space, in memory)', () => {
  it('given a trained tiny experiment and a hand-made table, when the ranking is analysed, then RankingAnalysisRecorded holds the pairs and the exact tau-b, rho and top-k', async () => {
    const { service } = createMemoryRuntime();
    await trainedTiny(service, 'tiny-1');
    const analysis = await analyseRanking(service, 'tiny-1', options);
    assert.ok(analysis);
    const [event] = await service.store.readStream('tiny-1', { types: ['RankingAnalysisRecorded'] });
    assert.equal(event?.type, 'RankingAnalysisRecorded');
    assert.equal(event.idempotencyKey, 'analysis:hand-made');
    const data = event.data as typeof analysis;
    assert.equal(data.step, 11, 'the supernet as trained: steps 0..11');
    assert.deepEqual(
      data.pairs,
      table.rows.map((r) => ({ key: r.key, standalone: r.top1, supernet: supernetTop1[r.key] })),
    );
    close(data.report.kendallTau, EXPECTED_TAU, 'tau-b');
    close(data.report.spearmanRho, EXPECTED_RHO, 'rho');
    // top-1: 111 in both; top-2: {111, 011} vs {111, 010}; top-3: {111, 011, 001} (the tie: first wins) vs {111, 010, 011}
    assert.deepEqual(data.report.topKOverlap, [
      { k: 1, overlap: 1 },
      { k: 2, overlap: 0.5 },
      { k: 3, overlap: 2 / 3 },
    ]);
    assert.equal(data.report.n, 5);
    close(data.report.kendallTauNullStandardError, Math.sqrt(1 / 6), 'null SE n=5');
    assert.deepEqual(analysis, { ...data, position: event.position });
  });

  it('given a recorded analysis, then folding the stream from event 0 gives it back, and the stored report is the one its pairs give', async () => {
    const { service } = createMemoryRuntime();
    await trainedTiny(service, 'tiny-2');
    await analyseRanking(service, 'tiny-2', options);
    const events = await service.store.readStream('tiny-2');
    const replayed = events.reduce((s, e) => evolveStatus(s, { ...e, position: e.position } as never), initialStatus);
    const cold = await new ExperimentProjections(service.store as MemoryEventStore).current('tiny-2');
    assert.deepEqual(replayed.rankingAnalyses, (await service.projections.current('tiny-2')).status.rankingAnalyses);
    assert.deepEqual(cold.status.rankingAnalyses, replayed.rankingAnalyses);
    const [a] = replayed.rankingAnalyses;
    assert.deepEqual(a!.report, rankingReportOf(a!.pairs, [1, 2, 3]));
    // and as of the position before it, there is none
    const before = await service.projections.at('tiny-2', a!.position - 1);
    assert.deepEqual(before.status.rankingAnalyses, []);
  });

  it('given a recorded analysis, a retry evaluates and writes nothing; the same id with other values is a conflict; bad keys and tiny tables are 422s naming the field', async () => {
    const { service } = createMemoryRuntime();
    await trainedTiny(service, 'tiny-3');
    await analyseRanking(service, 'tiny-3', options);
    const count = (await service.store.readStream('tiny-3')).length;
    let asked = 0;
    const counting: CandidateEvaluator = { ...handMadeSupernet, fullValidation: (a, c) => (asked++, handMadeSupernet.fullValidation(a, c)) };
    await analyseRanking(service, 'tiny-3', { ...options, evaluator: counting });
    assert.equal(asked, 0);
    const pairs = table.rows.map((r) => ({ key: r.key, standalone: r.top1, supernet: supernetTop1[r.key]! }));
    const input = { analysisId: 'hand-made', table, evaluation: options.evaluation, pairs, topK: [1, 2, 3] };
    await service.recordRankingAnalysis('tiny-3', input);
    assert.equal((await service.store.readStream('tiny-3')).length, count, 'an identical retry writes nothing');
    await assert.rejects(service.recordRankingAnalysis('tiny-3', { ...input, pairs: pairs.map((p, i) => (i === 0 ? { ...p, supernet: 99 } : p)) }), { code: 'IdempotencyConflictError' });
    await assert.rejects(service.recordRankingAnalysis('tiny-3', { ...input, analysisId: 'x', pairs: [...pairs.slice(0, 3), { key: '012', standalone: 1, supernet: 1 }] }), { code: 'RankingAnalysisError', field: 'pairs.3.key' });
    await assert.rejects(service.recordRankingAnalysis('tiny-3', { ...input, analysisId: 'x', pairs: pairs.slice(0, 2) }), { code: 'RankingAnalysisError', field: 'pairs' });
    await assert.rejects(service.recordRankingAnalysis('tiny-3', { ...input, analysisId: 'x', pairs: [...pairs.slice(0, 3), pairs[0]!] }), { code: 'RankingAnalysisError', field: 'pairs.3.key' });
    assert.equal((await service.store.readStream('tiny-3')).length, count, 'nothing written by the refused ones');
  });
});

describe('HTTP API: GET /experiments/:id/rankings (PGlite)', () => {
  let api: ApiHarness;
  let id: string;
  let position: number;
  before(async () => {
    api = await startApi(testBackends.find((b) => b.name === 'pglite')!);
    id = (await api.http.post('/experiments').set(auth).send(tinyRequest).expect(201)).body.id;
    const analysis = await analyseRanking(api.app.get(ExperimentService), id, options);
    position = analysis!.position;
  });
  after(() => api.close());

  it('given a recorded analysis, then the route serves it with the position it reflects; as of an earlier position there is none', async () => {
    const res = await api.http.get(`/experiments/${id}/rankings`).expect(200);
    assert.equal(res.body.position, position);
    assert.equal(res.headers['x-stream-position'], String(position));
    const [a] = res.body.analyses;
    assert.equal(a.analysisId, 'hand-made');
    assert.equal(a.step, -1, 'analysed before any training step');
    close(a.report.kendallTau, EXPECTED_TAU, 'tau-b over HTTP');
    assert.equal(a.pairs.length, 5);
    const earlier = await api.http.get(`/experiments/${id}/rankings?at=${position - 1}`).expect(200);
    assert.deepEqual(earlier.body.analyses, []);
  });

  it('an unknown experiment is a 404, a malformed query a 400 naming the field', async () => {
    const missing = await api.http.get('/experiments/exp-none/rankings').expect(404);
    assert.equal(missing.body.code, 'ExperimentNotFoundError');
    const bad = await api.http.get(`/experiments/${id}/rankings?at=-3`).expect(400);
    assert.equal(bad.body.field, 'query.at');
    const unknown = await api.http.get(`/experiments/${id}/rankings?sort=tau`).expect(400);
    assert.equal(unknown.body.field, 'query');
    assert.match(unknown.body.message, /sort/);
  });
});
