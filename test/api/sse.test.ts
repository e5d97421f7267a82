import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { testBackends } from '../support/databases.js';
import { SseClient } from './sse-client.js';
import { type ApiHarness, auth, smallRun, startApi } from './support.js';

for (const backend of testBackends) {
  describe(`live events over SSE on ${backend.name}`, () => {
    let api: ApiHarness;
    let port: number;
    let id: string;
    let leaseId: string;
    const clients: SseClient[] = [];
    const open = async (path: string, headers?: Record<string, string>) => {
      const client = await SseClient.open(port, path, headers);
      clients.push(client);
      return client;
    };

    before(async () => {
      api = await startApi(backend);
      await api.app.listen(0, '127.0.0.1');
      port = (api.app.getHttpServer().address() as AddressInfo).port;
      id = (await api.http.post('/experiments').set(auth).send(smallRun).expect(201)).body.id;
    });
    after(async () => {
      for (const client of clients) client.close();
      await api.close();
    });

    it('given a subscriber from the start, when workers append, then it receives the history and the live events in order, each with its checkpoint id', async () => {
      const client = await open(`/experiments/${id}/events/stream`);
      assert.equal(client.status, 200);
      const [created] = await client.next(1);
      assert.equal(created!.data.type, 'ExperimentCreated');
      leaseId = (await api.http.post(`/experiments/${id}/lease`).set(auth).send({ workerId: 'w-1' }).expect(201)).body.leaseId;
      const asked = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200);
      await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: asked.body.step, loss: 2.1 }).expect(200);
      const messages = await client.next(5);
      assert.deepEqual(
        messages.map((m) => m.data.type),
        ['ExperimentCreated', 'WorkerLeaseAcquired', 'PhaseChanged', 'ArchitectureSampled', 'RewardRecorded'],
      );
      for (const m of messages) assert.equal(m.id, m.data.checkpoint);
      const positions = messages.map((m) => m.data.position);
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    });

    it('given a client that dropped, when it reconnects with Last-Event-ID, then it resumes right after that event, including what it missed', async () => {
      const first = await open(`/experiments/${id}/events/stream`);
      const seen = await first.next(3);
      first.close();
      // Appended while the client is away.
      const asked = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200);
      await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: asked.body.step, loss: 2.0 }).expect(200);
      const history = (await api.http.get(`/experiments/${id}/events`).query({ limit: 1000 }).expect(200)).body.events as { checkpoint: string }[];
      const resumed = await open(`/experiments/${id}/events/stream`, { 'Last-Event-ID': seen[2]!.id });
      const expected = history.slice(3).map((e) => e.checkpoint);
      const got = await resumed.next(expected.length);
      assert.deepEqual(
        got.map((m) => m.id),
        expected,
        'no gap, no duplicate',
      );
      const viaQuery = await open(`/experiments/${id}/events/stream?lastEventId=${encodeURIComponent(seen[2]!.id)}&type=RewardRecorded`);
      const rewards = await viaQuery.next(2);
      assert.ok(rewards.every((m) => m.data.type === 'RewardRecorded'));
    });

    it('given a malformed Last-Event-ID or an unknown experiment, then the stream is refused with 400 or 404', async () => {
      await api.http.get(`/experiments/${id}/events/stream`).set('Last-Event-ID', 'not-a-checkpoint').expect(400);
      await api.http.get('/experiments/exp-none/events/stream').expect(404);
    });
  });
}
