import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, smallRun, startApi } from './support.js';

interface SseMessage {
  id: string;
  data: { position: number; type: string; checkpoint: string; data: Record<string, unknown> };
}

/** An SSE client that collects messages; `next(n)` waits until n messages arrived. */
class SseClient {
  readonly messages: SseMessage[] = [];
  private response: IncomingMessage | null = null;
  private buffer = '';
  private waiters: (() => void)[] = [];
  status = 0;

  static open(port: number, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Accept: 'text/event-stream', ...headers } }, (response) => {
        client.response = response;
        client.status = response.statusCode ?? 0;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => client.receive(chunk));
        response.on('error', () => undefined);
        resolve(client);
      });
      req.on('error', reject);
      req.end();
    });
  }

  async next(count: number, timeoutMs = 5000): Promise<SseMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} SSE messages, got ${this.messages.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.messages.slice(0, count);
  }

  close(): void {
    this.response?.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields = new Map<string, string>();
      for (const line of frame.split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
      }
      if (fields.has('data')) this.messages.push({ id: fields.get('id')!, data: JSON.parse(fields.get('data')!) });
    }
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

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
