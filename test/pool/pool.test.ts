/**
 * Beyond one process, on one Postgres database: a pool of `mctnas worker` processes (one killed
 * with kill -9 midway) trains four tabular experiments, and two `mctnas serve` replicas serve
 * one consistent history to a client that alternates between them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../../src/database/data-source.js';
import { PostgresDatabase } from '../../src/database/postgres-database.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createOracleExperiment } from '../../src/tabular/oracle-experiment.js';
import { loadNasBenchMacro } from '../../src/tabular/table.js';
import { scratchDatabase, sleep } from '../support/databases.js';
import { nasBenchMacroJson } from '../support/paths.js';
import { type CliProcess, http as httpAs, sse, startCli, startServe } from '../support/cli-processes.js';

const TOKEN = 'pool-test-token-0123456789';
const http = (url: string, method: string, path: string, body?: unknown) => httpAs(url, method, path, body, TOKEN);

describe('a pool of workers on one Postgres, one of them killed with kill -9', () => {
  let db: { url: string; drop(): Promise<void> };
  let runtime: Runtime;
  const ids: string[] = [];
  const schedule = { stepsPerEpoch: 10, warmupSteps: 40, treeBuildingSteps: 80, mctSteps: 120 };
  const TTL = 2000;

  before(async () => {
    db = await scratchDatabase('pool');
    const database = new PostgresDatabase(db.url);
    await migrate(database);
    runtime = createRuntime(database);
    const table = loadNasBenchMacro(nasBenchMacroJson);
    for (let seed = 1; seed <= 4; seed++) {
      ids.push(await createOracleExperiment(runtime.service, table, { schedule, seed, search: { strategy: 'random', candidates: 5 } }));
    }
  });
  after(async () => {
    await runtime.database?.close();
    await db.drop();
  });

  it('given 4 experiments and 2 workers, when one worker is killed midway, then the other takes its experiment over after the lease TTL and every experiment completes exactly once with every step once', { timeout: 600_000 }, async () => {
    const env = { DATABASE_URL: db.url };
    const args = (id: string) => ['worker', '--worker-id', id, '--exit-when-idle', '--lease-ttl-ms', String(TTL), '--poll-ms', '200'];
    const a = startCli(args('pool-a'), env);
    const b = startCli(args('pool-b'), env);
    // Kill worker a once it is well into an experiment.
    let victim: string | null = null;
    for (let i = 0; i < 1200 && !victim; i++) {
      for (const id of ids) {
        const view = await runtime.projections.current(id);
        if (view.status.lease?.workerId === 'pool-a' && view.tree.lastRewardedStep >= 30 && view.status.lifecycle === 'running') victim = id;
      }
      if (!victim) await sleep(100);
    }
    assert.ok(victim, `worker a got an experiment going:\n${a.output()}`);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    assert.equal(await a.exited, null, 'killed by a signal');
    assert.equal(await b.exited, 0, b.output());

    const store = runtime.store;
    for (const id of ids) {
      const events = await store.readStream(id);
      assert.equal(events.filter((e) => e.type === 'ExperimentCompleted').length, 1, `${id} completes exactly once`);
      const steps = events.filter((e) => e.type === 'RewardRecorded').map((e) => (e.data as { step: number }).step);
      assert.deepEqual(steps, Array.from({ length: 240 }, (_, i) => i), `${id}: every step once, in order`);
      const sampled = events.filter((e) => e.type === 'ArchitectureSampled').map((e) => (e.data as { step: number }).step);
      assert.deepEqual(sampled, steps, `${id}: every step sampled once`);
      assert.equal(events.filter((e) => e.type === 'SearchCompleted').length, 1);
    }
    const victimEvents = await store.readStream(victim!);
    const expired = victimEvents.filter((e) => e.type === 'WorkerLeaseExpired');
    assert.equal(expired.length, 1);
    assert.deepEqual({ ...(expired[0]!.data as object), leaseId: '', expiredAt: '' }, { workerId: 'pool-a', leaseId: '', expiredAt: '', detectedBy: 'pool-b' });
    const trainers = new Set(victimEvents.filter((e) => e.type === 'RewardRecorded').map((e) => e.metadata.workerId));
    assert.deepEqual([...trainers].sort(), ['pool-a', 'pool-b'], 'the victim was trained by a, then by b');
    const takeover = expired[0]!.createdAt.getTime() - killedAt;
    console.log(`# takeover after kill -9: ${takeover} ms (lease TTL ${TTL} ms)`);
  });
});

describe('two API replicas on one Postgres', () => {
  let db: { url: string; drop(): Promise<void> };
  const replicas: CliProcess[] = [];
  const urls: string[] = [];

  before(async () => {
    db = await scratchDatabase('replicas');
    const database = new PostgresDatabase(db.url);
    await migrate(database);
    await database.close();
    for (let i = 0; i < 2; i++) {
      const replica = await startServe({ DATABASE_URL: db.url, MCTNAS_API_TOKEN: TOKEN });
      replicas.push(replica);
      urls.push(replica.url);
    }
  });
  after(async () => {
    for (const r of replicas) {
      r.child.kill('SIGINT');
      await r.exited;
    }
    await db.drop();
  });

  it('given a client alternating between replicas, then every write is visible on the other with minPosition, SSE on one replica carries what the other appended, and both serve one history', { timeout: 300_000 }, async () => {
    const [a, b] = urls as [string, string];
    const created = await http(a, 'POST', '/experiments', {
      name: 'replicas',
      searchSpace: { preset: 'nas-bench-macro' },
      schedule: { stepsPerEpoch: 5, warmupSteps: 5, treeBuildingSteps: 10, mctSteps: 5 },
      dataset: { kind: 'synthetic' },
      search: { strategy: 'random', candidates: 2 },
      seed: 3,
    });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    // Live on replica b from the start: it must carry every event appended through either replica.
    const expected = 40; // the run appends more (20 samples and 20 rewards alone); compared with the history below
    const live = sse(`${b}/experiments/${id}/events/stream`, (got) => got.length >= expected);
    const seenOnB = await http(b, 'GET', `/experiments/${id}?minPosition=${created.body.position}`);
    assert.equal(seenOnB.status, 200, 'a read on the other replica waits for the write it names');
    const lease = await http(b, 'POST', `/experiments/${id}/lease`, { workerId: 'replica-client', ttlMs: 60_000 });
    assert.equal(lease.status, 201);
    const leaseId = lease.body.leaseId as string;
    let turn = 0;
    const replica = () => (turn++ % 2 === 0 ? a : b);
    for (;;) {
      const asked = await http(replica(), 'POST', `/experiments/${id}/ask`, { leaseId });
      assert.equal(asked.status, 200, JSON.stringify(asked.body));
      if (asked.body.done) break;
      if (asked.body.kind === 'train') {
        const told = await http(replica(), 'POST', `/experiments/${id}/tell`, { leaseId, step: asked.body.step, loss: 2 - asked.body.step / 100 });
        assert.equal(told.status, 200, JSON.stringify(told.body));
        const read = await http(replica(), 'GET', `/experiments/${id}?minPosition=${told.body.position}`);
        assert.equal(read.body.lastRewardedStep, asked.body.step, 'read-your-writes through the other replica');
      } else {
        const answer = { leaseId, kind: 'full-validation', searchId: asked.body.searchId, candidate: asked.body.candidate, top1: 50 + asked.body.candidate, loss: 1 };
        const told = await http(replica(), 'POST', `/experiments/${id}/search/tell`, answer);
        assert.equal(told.status, 200, JSON.stringify(told.body));
      }
    }
    const [historyA, historyB] = await Promise.all([a, b].map(async (url) => (await http(url, 'GET', `/experiments/${id}/events?limit=1000`)).body.events as { checkpoint: string; type: string }[]));
    assert.deepEqual(historyA, historyB, 'both replicas serve one history');
    const streamed = await Promise.race([live.messages, sleep(30_000).then(() => null)]);
    live.close();
    assert.ok(streamed && streamed.length >= expected, 'the SSE stream on replica b delivered');
    assert.deepEqual(
      streamed.map((m) => m.id),
      historyA.slice(0, streamed.length).map((e) => e.checkpoint),
      'SSE on b carries, in order, the events written through a and b',
    );
    const statusA = (await http(a, 'GET', `/experiments/${id}`)).body;
    const statusB = (await http(b, 'GET', `/experiments/${id}`)).body;
    assert.equal(statusA.lifecycle, 'completed');
    assert.deepEqual(statusA, statusB, 'the projection caches of both replicas agree');
  });
});
