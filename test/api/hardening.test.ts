/**
 * Issue 12's reproductions, each a request that used to crash, freeze or confuse the service:
 * every one is now a 4xx naming the field, and writes nothing. Both backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, countEvents, smallRun, startApi, syntheticLoss } from './support.js';

const customSpace = {
  name: 'custom',
  input: { size: 32, channels: 3 },
  stem: { channels: 8, kernel: 3, stride: 1 },
  layers: [
    { channels: 8, stride: 1, ops: [{ type: 'identity' }, { type: 'mbconv', kernel: 3, expansion: 3, se: false }] },
    { channels: 16, stride: 2, ops: [{ type: 'mbconv', kernel: 3, expansion: 3, se: false }, { type: 'mbconv', kernel: 5, expansion: 6, se: false }] },
  ],
  head: { channels: 32, classes: 10 },
};

const layers = (count: number, ops = 4) => ({
  ...customSpace,
  layers: Array.from({ length: count }, () => ({ channels: 8, stride: 1, ops: Array.from({ length: ops }, (_, k) => (k === 0 ? { type: 'identity' } : { type: 'mbconv', kernel: 1 + 2 * (k % 4), expansion: 1 + Math.floor(k / 4), se: k % 2 === 0 })) })),
});

/** [what, request body change, the field the 400 must name] */
const REJECTED_CREATIONS: [string, Record<string, unknown>, string][] = [
  ['a lone surrogate in the name', { name: '\ud800' }, 'body.name'],
  ['a lone low surrogate in dataset.kind', { dataset: { kind: 'x\udfff' } }, 'body.dataset.kind'],
  ['a lone surrogate in a training key', { training: { ['lr\ud800']: 1 } }, 'body.training'],
  ['a lone surrogate in a training value', { training: { lr: 'a\ud800' } }, 'body.training.lr'],
  ['a lone surrogate in a custom space name', { searchSpace: { ...customSpace, name: '\udbff' } }, 'body.searchSpace.name'],
  ['a FLOPs window no architecture can meet', { flopsWindow: { min: 1, max: 2 } }, 'body.flopsWindow'],
  ['a FLOPs window above every architecture', { flopsWindow: { min: 1e300, max: 1e301 } }, 'body.flopsWindow'],
  ['a FLOPs window of almost nothing', { flopsWindow: { min: 0, max: 1e-300 } }, 'body.flopsWindow'],
  ['tau 1e-320', { hyperparameters: { tau: 1e-320 } }, 'body.hyperparameters.tau'],
  ['c1 1e308', { hyperparameters: { c1: 1e308 } }, 'body.hyperparameters.c1'],
  ['c2 1e308', { hyperparameters: { c2: 1e308 } }, 'body.hyperparameters.c2'],
  ['maxRedraws 1e308', { hyperparameters: { maxRedraws: 1e308 } }, 'body.hyperparameters.maxRedraws'],
  ['5,000 layers', { searchSpace: layers(5000, 1) }, 'body.searchSpace'],
  ['65 layers', { searchSpace: layers(65) }, 'body.searchSpace'],
  ['33 ops in a layer', { searchSpace: layers(2, 33) }, 'body.searchSpace'],
  ['1e15 channels', { searchSpace: { ...customSpace, head: { channels: 1e15, classes: 10 } } }, 'body.searchSpace'],
  ['input size 1e15', { searchSpace: { ...customSpace, input: { size: 1e15, channels: 3 } } }, 'body.searchSpace'],
  ['1e12 classes', { searchSpace: { ...customSpace, head: { channels: 32, classes: 1e12 } } }, 'body.searchSpace'],
  ['widthMultiplier 1e-320', { searchSpace: { preset: 'nas-bench-macro', widthMultiplier: 1e-320 } }, 'body.searchSpace'],
  ['1e9-epoch schedule overflowing the step bound', { schedule: { stepsPerEpoch: 1e8, warmupEpochs: 1e8, treeBuildingEpochs: 0, mctEpochs: 0 } }, 'body.schedule'],
  ['Fashion-MNIST with a 32x32x3 space', { dataset: { kind: 'fashion-mnist' } }, 'body.dataset'],
  ['CIFAR-10 with a 28x28x1 space', { searchSpace: { preset: 'nas-bench-macro', inputSize: 28, inputChannels: 1 }, dataset: { kind: 'cifar10', dir: '/data' } }, 'body.dataset'],
];

for (const backend of testBackends) {
  describe(`hardening on ${backend.name}`, () => {
    let api: ApiHarness;
    before(async () => {
      // The default body limit (1 MiB): the 5,000-layer space is 650 KB.
      api = await startApi(backend, { bodyLimitBytes: 1024 * 1024 });
    });
    after(() => api.close());

    for (const [what, change, field] of REJECTED_CREATIONS) {
      it(`given a creation with ${what}, then 400 naming ${field} and nothing is written`, async () => {
        const before = await countEvents(api.db);
        const response = await api.http.post('/experiments').set(auth).send({ ...smallRun, ...change });
        assert.equal(response.status, 400, response.text.slice(0, 300));
        assert.equal(response.body.statusCode, 400);
        assert.ok(String(response.body.field).startsWith(field), `${response.body.field} names ${field}: ${response.body.message}`);
        assert.ok(String(response.body.message).length > 0);
        assert.equal(await countEvents(api.db), before);
      });
    }

    it('given a reachable FLOPs window and bounded settings at the limits, then the experiment is created and every MCT ask samples', async () => {
      const body = {
        ...smallRun,
        schedule: { stepsPerEpoch: 2, warmupSteps: 2, treeBuildingSteps: 2, mctSteps: 4 },
        hyperparameters: { tau: 1e-6, c1: 1e3, c2: 1e3 },
        flopsWindow: { min: 0, max: 1e12 },
      };
      const id = (await api.http.post('/experiments').set(auth).send(body).expect(201)).body.id as string;
      const service = api.app.get(ExperimentService);
      const { leaseId } = await service.acquireLease(id, 'w', 60_000);
      for (let step = 0; step < 8; step++) {
        const asked = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200);
        assert.equal(asked.body.step, step);
        assert.ok(asked.body.probabilities.flat().every((p: number) => Number.isFinite(p)), 'finite probabilities');
        await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step, loss: syntheticLoss(asked.body.architecture, step) }).expect(200);
      }
    });

    it('given a space at the size bound (64 layers x 32 ops), then a tell stays well under the 2 s answer bound and /health answers meanwhile', async () => {
      const id = (await api.http.post('/experiments').set(auth).send({ ...smallRun, searchSpace: layers(64, 32), schedule: { stepsPerEpoch: 2, warmupSteps: 1, treeBuildingSteps: 4, mctSteps: 2 } }).expect(201)).body.id as string;
      const service = api.app.get(ExperimentService);
      const { leaseId } = await service.acquireLease(id, 'w', 60_000);
      let slowest = 0;
      for (let step = 0; step < 7; step++) {
        const started = performance.now();
        const asked = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200);
        const [health] = await Promise.all([
          api.http.get('/health'),
          api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step, loss: 1 + step / 10 }).expect(200),
        ]);
        assert.equal(health.status, 200);
        slowest = Math.max(slowest, performance.now() - started);
      }
      assert.ok(slowest < 2_000, `slowest ask + tell ${slowest.toFixed(0)} ms`);
    });

    it('given lone surrogates in a lease workerId or a pause reason, then 400 naming the field and nothing is written', async () => {
      const id = (await api.http.post('/experiments').set(auth).send(smallRun).expect(201)).body.id as string;
      const before = await countEvents(api.db);
      const lease = await api.http.post(`/experiments/${id}/lease`).set(auth).send({ workerId: 'w\ud800' });
      assert.equal(lease.status, 400);
      assert.equal(lease.body.field, 'body.workerId');
      const pause = await api.http.post(`/experiments/${id}/pause`).set(auth).send({ reason: '\udc00why' });
      assert.equal(pause.status, 400);
      assert.equal(pause.body.field, 'body.reason');
      assert.equal(await countEvents(api.db), before);
    });
  });
}
