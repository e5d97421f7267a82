import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventStore } from '../../src/events/event-store.js';
import type { StoredEvent } from '../../src/events/stored-event.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, startApi, syntheticLoss } from './support.js';

/** 10 warm-up, 20 tree-building and 30 MCT steps, trained over ask/tell. */
const run = {
  name: 'timeline-spec',
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 20, mctSteps: 30 },
  dataset: { kind: 'synthetic' },
  seed: 5,
};

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

for (const backend of testBackends) {
  describe(`timeline reads on ${backend.name}`, () => {
    let api: ApiHarness;
    let id: string;
    let events: StoredEvent[];
    const data = <T>(type: string) => events.filter((e) => e.type === type).map((e) => ({ ...(e.data as T), position: e.position }));

    before(async () => {
      api = await startApi(backend);
      id = (await api.http.post('/experiments').set(auth).send(run).expect(201)).body.id;
      const leaseId = (await api.http.post(`/experiments/${id}/lease`).set(auth).send({ workerId: 'w' }).expect(201)).body.leaseId as string;
      for (;;) {
        const asked = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId, search: false }).expect(200);
        if (asked.body.done) break;
        await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: asked.body.step, loss: syntheticLoss(asked.body.architecture, asked.body.step) }).expect(200);
      }
      events = await api.app.get(EventStore).readStream(id);
    });
    after(() => api.close());

    it('given 60 rewarded steps and points=7, then the steps come in 7 buckets of 9 whose means are the recorded ones, with the phase bands', async () => {
      const rewards = data<{ step: number; loss: number; movingAverageLoss: number; reward: number }>('RewardRecorded');
      const answer = (await api.http.get(`/experiments/${id}/timeline?points=7`).expect(200)).body;
      assert.equal(answer.position, events.at(-1)!.position);
      assert.equal(answer.series.bucket, 9);
      assert.deepEqual(answer.series.step, [0, 9, 18, 27, 36, 45, 54]);
      answer.series.step.forEach((first: number, i: number) => {
        const inBucket = rewards.filter((r) => r.step >= first && r.step < first + 9);
        assert.ok(Math.abs(answer.series.loss[i] - mean(inBucket.map((r) => r.loss))) < 1e-9);
        assert.ok(Math.abs(answer.series.reward[i] - mean(inBucket.map((r) => r.reward))) < 1e-9);
        assert.equal(answer.series.lossMax[i], Math.max(...inBucket.map((r) => r.loss)));
      });
      assert.deepEqual(
        answer.phases.map((p: { phase: string; fromStep: number; toStep: number | null }) => [p.phase, p.fromStep, p.toStep]),
        [['warmup', 0, 10], ['tree-building', 10, 30], ['mct-sampling', 30, null]],
      );
    });

    it('given a step window, then every step in it comes at full resolution', async () => {
      const rewards = data<{ step: number; loss: number }>('RewardRecorded').filter((r) => r.step >= 10 && r.step <= 19);
      const answer = (await api.http.get(`/experiments/${id}/timeline?fromStep=10&toStep=19`).expect(200)).body;
      assert.equal(answer.series.bucket, 1);
      assert.deepEqual(answer.series.step, rewards.map((r) => r.step));
      assert.deepEqual(answer.series.loss, rewards.map((r) => r.loss));
    });

    it('given at = the position of step 20 s reward, then the timeline ends at step 20', async () => {
      const reward = data<{ step: number }>('RewardRecorded').find((r) => r.step === 20)!;
      const answer = (await api.http.get(`/experiments/${id}/timeline?at=${reward.position}`).expect(200)).body;
      assert.equal(answer.lastRewardedStep, 20);
      assert.equal(answer.series.step.at(-1), 20);
      assert.equal(answer.phases.at(-1).toStep, null);
      assert.equal(answer.phases.length, 2);
    });

    it('given points=6, then the heatmap frames are every 10th sampled step with its recorded probabilities', async () => {
      const samples = data<{ step: number; probabilities: number[][] }>('ArchitectureSampled');
      const answer = (await api.http.get(`/experiments/${id}/timeline/heatmaps?points=6`).expect(200)).body;
      assert.equal(answer.frames.stride, 10);
      assert.deepEqual(answer.frames.step, [0, 10, 20, 30, 40, 50]);
      answer.frames.step.forEach((step: number, i: number) => assert.deepEqual(answer.frames.probabilities[i], samples.find((s) => s.step === step)!.probabilities));
    });

    it('given a step, then its sample, reward and visit counts are the recorded ones; an unsampled step is a 404 naming it', async () => {
      const sample = data<{ step: number; architecture: number[] }>('ArchitectureSampled').find((s) => s.step === 25)!;
      const reward = data<{ step: number; loss: number; reward: number }>('RewardRecorded').find((r) => r.step === 25)!;
      const answer = (await api.http.get(`/experiments/${id}/timeline/steps/25`).expect(200)).body;
      assert.deepEqual(answer.architecture, sample.architecture);
      assert.equal(answer.sampledAt, sample.position);
      assert.equal(answer.reward.loss, reward.loss);
      assert.equal(answer.reward.reward, reward.reward);
      assert.equal(answer.phase, 'tree-building');
      assert.ok(answer.visits.nodes.length > 0);
      const missing = await api.http.get(`/experiments/${id}/timeline/steps/999`).expect(404);
      assert.equal(missing.body.code, 'StepNotFound');
      assert.equal(missing.body.field, 'param.step');
    });

    it('given bad input, then a 4xx names the field', async () => {
      assert.equal((await api.http.get(`/experiments/${id}/timeline?fromStep=20&toStep=10`).expect(400)).body.field, 'query.toStep');
      assert.equal((await api.http.get(`/experiments/${id}/timeline?points=0`).expect(400)).body.field, 'query.points');
      assert.equal((await api.http.get(`/experiments/${id}/timeline/steps/x`).expect(400)).body.field, 'param.step');
      await api.http.get('/experiments/nope/timeline').expect(404);
    });

    it('given the presets, then each is a creation request POST /experiments accepts', async () => {
      const { presets } = (await api.http.get('/presets').expect(200)).body as { presets: { name: string; needsDataDir: boolean; request: Record<string, unknown> }[] };
      assert.deepEqual(presets.map((p) => p.name).sort(), ['demo', 'imagenet', 'nas-bench-macro-cifar10']);
      assert.equal(presets.find((p) => p.name === 'imagenet')!.needsDataDir, true);
      await api.http.post('/experiments').set(auth).send(presets.find((p) => p.name === 'demo')!.request).expect(201);
    });
  });
}
