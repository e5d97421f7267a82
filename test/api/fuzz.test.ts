/**
 * Property-based fuzzing of the whole API (fast-check) on both backends: every route with every
 * parameter, arbitrary JSON, Unicode (lone surrogates, NUL, RTL), huge and tiny numbers, deep
 * nesting, odd headers and content types. Per request: no 5xx, no answer slower than 2 s, every
 * error `{statusCode, error, code, message, field?}`, no event written by a rejected request.
 * `MCTNAS_FUZZ_RUNS` sets the requests per backend (default 2,500: 5,000 in CI); `npm run fuzz`
 * runs a longer one; `MCTNAS_FUZZ_SEED` replays a reported seed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { testBackends } from '../support/databases.js';
import { fuzz, portOf } from './fuzz/harness.js';
import { type ApiHarness, smallRun, startApi, syntheticLoss, TOKEN } from './support.js';

const RUNS = Number(process.env.MCTNAS_FUZZ_RUNS ?? 2_500);
const SEED = Number(process.env.MCTNAS_FUZZ_SEED ?? 20_261_202);
const COLLECT = process.env.MCTNAS_FUZZ_COLLECT === '1';

for (const backend of testBackends) {
  describe(`fuzzing the API with ${RUNS} generated requests on ${backend.name}`, () => {
    let api: ApiHarness;
    let experimentId: string;
    let leaseId: string;
    let head: number;

    before(async () => {
      api = await startApi(backend);
      await new Promise<void>((resolve) => api.app.getHttpServer().listen(0, '127.0.0.1', resolve));
      experimentId = (await api.http.post('/experiments').set({ Authorization: `Bearer ${TOKEN}` }).send(smallRun).expect(201)).body.id;
      // Some history, and a lease the fuzzer knows (so tells reach the value checks).
      const service = api.app.get(ExperimentService);
      leaseId = (await service.acquireLease(experimentId, 'owner', 3_600_000)).leaseId;
      for (let i = 0; i < 30; i++) {
        const sample = (await service.ask(experimentId, leaseId))!;
        await service.tell(experimentId, leaseId, sample.step, syntheticLoss(sample.architecture, sample.step));
      }
      head = (await api.http.get(`/experiments/${experimentId}`).expect(200)).body.position as number;
    });
    after(() => api.close());

    it('given generated requests to every route, then no 5xx, no hang, every error in the documented shape and no write from a rejected request', { timeout: 30 * 60_000 }, async () => {
      const report = await fuzz({ port: portOf(api.app.getHttpServer()), db: api.db, target: { experimentId, leaseId, token: TOKEN, head }, runs: RUNS, seed: SEED, collect: COLLECT });
      console.log(`# ${backend.name}: ${report.requests} requests, statuses ${JSON.stringify(report.statuses)}, slowest ${report.slowestMs.toFixed(0)} ms, answers ${(report.answerMs / 1000).toFixed(1)} s, kinds ${JSON.stringify(report.kinds)}`);
      if (COLLECT) console.log(report.failures.join('\n'));
      assert.deepEqual(report.failures, []);
      assert.ok(report.requests >= RUNS, `${report.requests} requests sent`);
      // A short run (MCTNAS_FUZZ_RUNS) may miss a rare status; the default run covers all.
      if (RUNS >= 1_000) for (const status of ['200', '201', '400', '401', '404', '409', '413', '415', '422', '431']) assert.ok(report.statuses[status], `the corpus exercises ${status}: ${JSON.stringify(report.statuses)}`);
    });
  });
}
