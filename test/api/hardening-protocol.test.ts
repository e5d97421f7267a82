/**
 * Issue 12's protocol and leak points (7-12) as specifications, over real HTTP on both
 * backends: the end of training moves on, concurrency never surfaces as a conflict for a lease
 * holder, unknown things are 404s, every error names a request field in the API's shape, SSE
 * keeps idle streams alive and lets a browser authenticate, nothing secret is readable without
 * the token, and every SSE stream is released when its client goes.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LiveEvents } from '../../src/api/events/live-events.js';
import { SEARCH_LAUNCHER } from '../../src/api/search/search-launcher.js';
import { SupernetSearchLauncher } from '../../src/cli/search-launcher.js';
import type { AppConfig } from '../../src/config.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { createLogger } from '../../src/logging/logger.js';
import { ApiAuthGuard, TICKET_TTL_MS } from '../../src/api/shared/auth.js';
import { sleep, testBackends } from '../support/databases.js';
import { SseClient } from './sse-client.js';
import { type ApiHarness, auth, countEvents, smallRun, startApi, syntheticLoss, TOKEN } from './support.js';

/** 6 training steps, then a random search of 2 candidates. */
const shortRun = { ...smallRun, name: 'short', schedule: { stepsPerEpoch: 2, warmupSteps: 2, treeBuildingSteps: 2, mctSteps: 2 }, search: { strategy: 'random', candidates: 2 } };

type Answer = { status: number; body: Record<string, unknown> };

/** The service's own search launcher (the in-process TensorFlow.js trainer), as `mctnas serve` attaches it. */
@Global()
@Module({
  providers: [
    {
      provide: SEARCH_LAUNCHER,
      useFactory: (service: ExperimentService, config: ConfigService) => new SupernetSearchLauncher(service, config.getOrThrow<AppConfig>('app'), createLogger('silent')),
      inject: [ExperimentService, ConfigService],
    },
  ],
  exports: [SEARCH_LAUNCHER],
})
class TrainerModule {}

/** The API's error shape: statusCode, error, code, message (field when one is named), nothing else. */
function assertErrorShape(answer: { status: number; headers: Record<string, unknown>; body: Record<string, unknown> }, status: number): void {
  assert.equal(answer.status, status);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  assert.equal(answer.body.statusCode, status);
  for (const key of ['error', 'code', 'message']) assert.ok(typeof answer.body[key] === 'string' && (answer.body[key] as string).length > 0, `${key} in ${JSON.stringify(answer.body)}`);
  assert.deepEqual(
    Object.keys(answer.body).filter((k) => !['statusCode', 'error', 'code', 'message', 'field'].includes(k)),
    [],
  );
}

/** One raw HTTP exchange (for what supertest cannot send: oversized headers). */
function raw(port: number, text: string): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, body] = [data.slice(0, data.indexOf('\r\n\r\n')), data.slice(data.indexOf('\r\n\r\n') + 4)];
      const headers = Object.fromEntries(head.split('\r\n').slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(head.split(' ')[1]), headers, body: body ? (JSON.parse(body) as Record<string, unknown>) : {} });
    });
    socket.end(text);
  });
}

async function listen(api: ApiHarness): Promise<number> {
  await api.app.listen(0, '127.0.0.1');
  return (api.app.getHttpServer().address() as AddressInfo).port;
}

async function leased(api: ApiHarness, body: object = smallRun, workerId = 'w'): Promise<{ id: string; leaseId: string }> {
  const id = (await api.http.post('/experiments').set(auth).send(body).expect(201)).body.id as string;
  const leaseId = (await api.http.post(`/experiments/${id}/lease`).set(auth).send({ workerId, ttlMs: 600_000 }).expect(201)).body.leaseId as string;
  return { id, leaseId };
}

async function trainSteps(api: ApiHarness, id: string, leaseId: string, steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) {
    const asked = (await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId, search: false }).expect(200)).body;
    if (asked.done) return;
    await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: asked.step, loss: syntheticLoss(asked.architecture, asked.step) }).expect(200);
  }
}

for (const backend of testBackends) {
  describe(`hardening of the protocol on ${backend.name}`, () => {
    let api: ApiHarness;
    let port: number;
    const clients: SseClient[] = [];
    before(async () => {
      api = await startApi(backend, { sseKeepAliveMs: 200, dataDir: `/tmp/mctnas-hardening-secret-dir-${process.pid}` });
      port = await listen(api);
    });
    after(async () => {
      for (const client of clients) client.close();
      await api.close();
    });
    const open = async (path: string, headers?: Record<string, string>) => {
      const client = await SseClient.open(port, path, headers);
      clients.push(client);
      return client;
    };

    // 7
    it('given the last training step told, when the external trainer asks, then the experiment moves on to the search and completes once the questions are answered', async () => {
      const { id, leaseId } = await leased(api, shortRun);
      await trainSteps(api, id, leaseId, 6);
      let question = (await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200)).body;
      assert.equal(question.done, false);
      assert.equal(question.kind, 'full-validation');
      const during = (await api.http.get(`/experiments/${id}`).expect(200)).body;
      assert.deepEqual([during.lifecycle, during.phase], ['running', 'search']);
      while (!question.done) {
        const told = await api.http
          .post(`/experiments/${id}/search/tell`)
          .set(auth)
          .send({ leaseId, kind: question.kind, searchId: question.searchId, candidate: question.candidate, top1: 70 + question.candidate, loss: 0.9 })
          .expect(200);
        question = told.body.next;
      }
      const status = (await api.http.get(`/experiments/${id}`).expect(200)).body;
      assert.equal(status.lifecycle, 'completed');
      assert.notEqual(status.phase, 'mct-sampling');
      assert.ok(status.completedSearch, 'the search result is recorded');
    });

    // 8
    it('given a pending step, when 20 identical tells arrive at once, then exactly one records it (duplicate: false) and all answer the same reward', async () => {
      const { id, leaseId } = await leased(api);
      const asked = (await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200)).body;
      const before = await countEvents(api.db);
      const answers = await Promise.all(Array.from({ length: 20 }, () => api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: asked.step, loss: 2.2 })));
      assert.deepEqual(
        answers.map((a) => a.status),
        answers.map(() => 200),
      );
      assert.equal(answers.filter((a) => a.body.duplicate === false).length, 1, JSON.stringify(answers.map((a) => a.body.duplicate)));
      assert.equal(new Set(answers.map((a) => `${a.body.reward}@${a.body.position}`)).size, 1);
      assert.equal(await countEvents(api.db), before + 1, 'one RewardRecorded (warm-up: no visit counts)');
    });

    it('given a worker training, when its heartbeats and re-acquisitions race its own asks and tells, then none answers 409', async () => {
      const { id, leaseId } = await leased(api);
      const conflicts: string[] = [];
      const noConflict = (what: string) => (answer: Answer) => {
        if (answer.status !== 200 && answer.status !== 201) conflicts.push(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
      };
      const training = (async () => {
        for (let step = 0; step < 30; step++) {
          const asked = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId });
          noConflict('ask')(asked);
          const told = await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: asked.body.step, loss: 1 + step / 100 });
          noConflict('tell')(told);
        }
      })();
      const lease = Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? api.http.post(`/experiments/${id}/lease`).set(auth).send({ workerId: 'w', ttlMs: 600_000 }).then((a) => {
              noConflict('re-acquire')(a);
              assert.equal(a.body.leaseId, leaseId, 'the holder gets its own lease back');
            })
          : api.http.post(`/experiments/${id}/lease/heartbeat`).set(auth).send({ leaseId }).then(noConflict('heartbeat')),
      );
      await Promise.all([training, ...lease]);
      assert.deepEqual(conflicts, []);
    });

    // 9
    it('given a lease id the experiment never issued, when it is released, then 404 naming it; a lease released before is released again with 200', async () => {
      const { id, leaseId } = await leased(api);
      const before = await countEvents(api.db);
      const unknown = await api.http.delete(`/experiments/${id}/lease/no-such-lease`).set(auth);
      assertErrorShape(unknown, 404);
      assert.equal(unknown.body.code, 'LeaseNotFoundError');
      assert.equal(unknown.body.field, 'param.leaseId');
      assert.equal(await countEvents(api.db), before);
      await api.http.delete(`/experiments/${id}/lease/${leaseId}`).set(auth).expect(200);
      const after = await countEvents(api.db);
      await api.http.delete(`/experiments/${id}/lease/${leaseId}`).set(auth).expect(200);
      assert.equal(await countEvents(api.db), after, 'releasing again writes nothing');
      assertErrorShape(await api.http.delete(`/experiments/exp-none/lease/${leaseId}`).set(auth), 404);
    });

    it('given a what-if naming a search the experiment never ran, then 404 naming body.searchId', async () => {
      const { id } = await leased(api);
      const answer = await api.http.post(`/experiments/${id}/replay`).set(auth).send({ searchId: 'search-9' });
      assertErrorShape(answer, 404);
      assert.deepEqual([answer.body.code, answer.body.field], ['SearchNotFoundError', 'body.searchId']);
    });

    it('given many experiments, when they are listed page by page, then every one comes once in creation order; unknown parameters and limits out of bounds are 400s', async () => {
      for (let i = 0; i < 5; i++) await api.http.post('/experiments').set(auth).send({ ...smallRun, name: `page-${i}` }).expect(201);
      const all = (await api.http.get('/experiments').query({ limit: 1000 }).expect(200)).body;
      assert.equal(all.next, null);
      const paged: string[] = [];
      for (let after = 0; ; ) {
        const page = (await api.http.get('/experiments').query({ limit: 2, after }).expect(200)).body;
        assert.ok(page.experiments.length <= 2);
        paged.push(...page.experiments.map((e: { id: string }) => e.id));
        if (page.next === null) break;
        after = page.next;
      }
      assert.deepEqual(
        paged,
        all.experiments.map((e: { id: string }) => e.id),
      );
      assert.ok(paged.length >= 5);
      for (const [query, field] of [
        ['foo=1', 'query'],
        ['limit=0', 'query.limit'],
        ['limit=1001', 'query.limit'],
        ['after=-1', 'query.after'],
        ['limit=abc', 'query.limit'],
      ] as const) {
        const answer = await api.http.get(`/experiments?${query}`);
        assertErrorShape(answer, 400);
        assert.equal(answer.body.field, field, query);
      }
    });

    // 10
    it('given requests the framework refuses before any route runs, then each answer is in the API error shape', async () => {
      const big = await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
      assertErrorShape(big, 431);
      assertErrorShape(await raw(port, 'NOT HTTP\r\n\r\n'), 400);
      const cases: [string, Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }>, number, string][] = [
        ['an undecodable path', api.http.get('/experiments/%ff'), 400, 'InvalidPathEncoding'],
        ['an unknown route', api.http.get('/nope'), 404, 'RouteNotFound'],
        ['an unknown method', api.http.put('/experiments').set(auth).send({}), 404, 'RouteNotFound'],
        ['unreadable JSON', api.http.post('/experiments').set(auth).set('Content-Type', 'application/json').send('{"name":'), 400, 'entity.parse.failed'],
        ['a body over the limit', api.http.post('/experiments').set(auth).send({ name: 'x'.repeat(70 * 1024) }), 413, 'entity.too.large'],
        ['an unsupported charset', api.http.post('/experiments').set(auth).set('Content-Type', 'application/json; charset=latin1').send('{}'), 415, 'charset.unsupported'],
        ['a body that is not JSON', api.http.post('/experiments').set(auth).set('Content-Type', 'text/plain').send('{}'), 415, 'UnsupportedMediaType'],
      ];
      for (const [what, answer, status, code] of cases) {
        const a = await answer;
        assertErrorShape(a, status);
        assert.equal(a.body.code, code, what);
      }
    });

    it('given values the domain refuses, then the 422 names the request field and the rule', async () => {
      const { id, leaseId } = await leased(api);
      const asked = (await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200)).body;
      const infinite = await api.http.post(`/experiments/${id}/tell`).set(auth).set('Content-Type', 'application/json').send(`{"leaseId":"${leaseId}","step":${asked.step},"loss":1e400}`);
      assertErrorShape(infinite, 422);
      assert.equal(infinite.body.field, 'body.loss');
      assert.match(String(infinite.body.message), /^body\.loss: must be a finite number greater than 0/);
      const negative = await api.http.post(`/experiments/${id}/replay`).set(auth).send({ at: -1e308 });
      assertErrorShape(negative, 400);
      assert.equal(negative.body.field, 'body.at');
      assert.match(String(negative.body.message), /from 1 to 9007199254740991/, 'states the rule, not the safe-integer range');
      assert.doesNotMatch(String(negative.body.message), /-9007199254740991/);
      const fraction = await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step: -1e308, loss: 1 });
      assert.match(String(fraction.body.message), /^body\.step: must be a step \(an integer\) from 0 to/);
    });

    // 11
    it('given an idle live stream, then it receives a keep-alive comment at the configured interval and is released when the client goes', async () => {
      const { id } = await leased(api);
      const live = api.app.get(LiveEvents);
      const openBefore = live.openStreams;
      const client = await open(`/experiments/${id}/events/stream`);
      await client.next(2);
      await client.until(() => client.comments >= 2, 3_000, () => `${client.comments} keep-alive comments`);
      assert.equal(live.openStreams, openBefore + 1);
      client.close();
      await client.until(() => live.openStreams === openBefore, 3_000, () => `${live.openStreams} streams still open`);
    });

    // 12
    it('given open reads, then lease ids are hidden from /events and SSE without the token and shown with it', async () => {
      const { id, leaseId } = await leased(api);
      await api.http.post(`/experiments/${id}/lease/heartbeat`).set(auth).send({ leaseId }).expect(200);
      const anonymous = JSON.stringify((await api.http.get(`/experiments/${id}/events`).expect(200)).body);
      assert.ok(anonymous.includes('WorkerLeaseAcquired') && anonymous.includes('WorkerHeartbeat'));
      assert.ok(!anonymous.includes(leaseId), 'no lease id without the token');
      assert.ok(JSON.stringify((await api.http.get(`/experiments/${id}/events`).set(auth).expect(200)).body).includes(leaseId));
      const stream = await open(`/experiments/${id}/events/stream`);
      const messages = await stream.next(3);
      assert.equal(messages[1]!.data.type, 'WorkerLeaseAcquired');
      assert.ok(!JSON.stringify(messages).includes(leaseId));
      const authorized = await open(`/experiments/${id}/events/stream`, auth);
      assert.ok(JSON.stringify(await authorized.next(3)).includes(leaseId));
      assert.ok(!JSON.stringify((await api.http.get(`/experiments/${id}`).expect(200)).body).includes(leaseId));
    });

    it('given anyone, then /health shows neither the data path nor where the database is', async () => {
      const health = JSON.stringify((await api.http.get('/health').expect(200)).body);
      for (const secret of [api.config.dataDir, 'secret-dir', 'postgres@', '127.0.0.1', '5432', 'mctnas_t_']) assert.ok(!health.includes(secret), `${secret} in ${health}`);
    });

    it('given 40 live streams, when their clients disconnect, then every stream and hub subscription is released', async () => {
      const { id } = await leased(api);
      const live = api.app.get(LiveEvents);
      const [openBefore, hubBefore] = [live.openStreams, live.hubSubscribers];
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const streams = await Promise.all(Array.from({ length: 40 }, () => open(`/experiments/${id}/events/stream`)));
      await Promise.all(streams.map((s) => s.next(2)));
      assert.equal(live.openStreams, openBefore + 40);
      for (const s of streams) s.close();
      const deadline = Date.now() + 5_000;
      while ((live.openStreams !== openBefore || live.hubSubscribers !== hubBefore) && Date.now() < deadline) await sleep(50);
      assert.deepEqual([live.openStreams, live.hubSubscribers], [openBefore, hubBefore]);
      const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      assert.ok(timersAfter <= timersBefore + 5, `timers ${timersBefore} -> ${timersAfter}: the streams' keep-alive timers are cleared`);
    });
  });

  describe(`starting a search on the attached trainer on ${backend.name}`, () => {
    let api: ApiHarness;
    before(async () => {
      api = await startApi(backend, {}, [TrainerModule]);
    });
    after(() => api.close());

    it('given training over without a checkpoint of the last step (trained over ask/tell), when a search is started here, then 409 saying why, not a 202 that fails in the log', async () => {
      const { id, leaseId } = await leased(api, shortRun);
      await trainSteps(api, id, leaseId, 6);
      const before = await countEvents(api.db);
      const answer = await api.http.post(`/experiments/${id}/search`).set(auth).send({ strategy: 'random' });
      assertErrorShape(answer, 409);
      assert.equal(answer.body.code, 'ExperimentStateError');
      assert.match(String(answer.body.message), /no checkpoint of its last trained step 5/);
      assert.equal(await countEvents(api.db), before);
    });
  });

  describe(`SSE with protected reads on ${backend.name}`, () => {
    let api: ApiHarness;
    let port: number;
    let id: string;
    const clients: SseClient[] = [];
    before(async () => {
      api = await startApi(backend, { protectReads: true });
      port = await listen(api);
      id = (await api.http.post('/experiments').set(auth).send(smallRun).expect(201)).body.id;
    });
    after(async () => {
      for (const client of clients) client.close();
      await api.close();
    });
    const open = async (path: string) => {
      const client = await SseClient.open(port, path);
      clients.push(client);
      return client;
    };

    it('given a read ticket from POST /auth/sse-ticket, then a client that cannot send headers streams that experiment, and nothing else opens with it', async () => {
      assert.equal((await open(`/experiments/${id}/events/stream`)).status, 401);
      assertErrorShape(await api.http.post('/auth/sse-ticket').send({ experimentId: id }), 401);
      assertErrorShape(await api.http.post('/auth/sse-ticket').set(auth).send({ experimentId: 'exp-none' }), 404);
      const issued = (await api.http.post('/auth/sse-ticket').set(auth).send({ experimentId: id }).expect(201)).body;
      assert.ok(!String(issued.ticket).includes(TOKEN), 'the ticket is not the token');
      assert.ok(Date.parse(issued.expiresAt) - Date.now() <= TICKET_TTL_MS);
      const stream = await open(`/experiments/${id}/events/stream?ticket=${encodeURIComponent(issued.ticket)}`);
      assert.equal(stream.status, 200);
      assert.equal((await stream.next(1))[0]!.data.type, 'ExperimentCreated');
      const other = (await api.http.post('/experiments').set(auth).send(smallRun).expect(201)).body.id;
      assert.equal((await open(`/experiments/${other}/events/stream?ticket=${encodeURIComponent(issued.ticket)}`)).status, 401, 'one experiment only');
      assertErrorShape(await api.http.get(`/experiments/${id}?ticket=${encodeURIComponent(issued.ticket)}`), 401);
      assertErrorShape(await api.http.get(`/experiments/${id}/events?ticket=${encodeURIComponent(issued.ticket)}`), 401);
      const signature = String(issued.ticket).lastIndexOf('.') + 1;
      const tampered = `${issued.ticket.slice(0, signature)}${issued.ticket[signature] === 'A' ? 'B' : 'A'}${issued.ticket.slice(signature + 1)}`;
      assert.equal((await open(`/experiments/${id}/events/stream?ticket=${encodeURIComponent(tampered)}`)).status, 401);
      const expired = api.app.get(ApiAuthGuard).issueTicket(id, Date.now() - TICKET_TTL_MS - 1).ticket;
      assert.equal((await open(`/experiments/${id}/events/stream?ticket=${encodeURIComponent(expired)}`)).status, 401);
    });
  });
}
