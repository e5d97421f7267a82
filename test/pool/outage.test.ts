/**
 * A database outage in the middle of a run, on a throwaway Postgres cluster the test creates
 * (initdb + pg_ctl in a temporary folder, another port; the shared cluster is never touched):
 * the cluster is stopped for about 10 s while two `mctnas worker` processes train and a
 * `mctnas serve` process answers, then started again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasCode } from '../../src/kernel/domain-error.js';
import { migrate } from '../../src/database/data-source.js';
import { PostgresDatabase } from '../../src/database/postgres-database.js';
import { createRuntime } from '../../src/runtime.js';
import { createOracleExperiment } from '../../src/tabular/oracle-experiment.js';
import { loadNasBenchMacro } from '../../src/tabular/table.js';
import { type CliProcess, http, sse, startCli, startServe } from '../support/cli-processes.js';
import { sleep } from '../support/databases.js';
import { nasBenchMacroJson } from '../support/paths.js';
import { postgresBinaries, type ThrowawayPostgres, throwawayPostgres } from '../support/throwaway-postgres.js';

const TOKEN = 'outage-test-token-0123456789';
const OUTAGE_MS = 10_000;
const bin = postgresBinaries();
const skip = bin ? false : 'no Postgres binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or MCTNAS_PG_BIN';

describe('a database outage mid-run (a throwaway Postgres stopped and restarted)', { skip }, () => {
  let pg: ThrowawayPostgres;
  before(async () => {
    pg = await throwawayPostgres(bin!);
  });
  after(async () => {
    await pg?.destroy();
  });

  it('given a listener, when Postgres restarts, then statements fail as DatabaseUnavailable meanwhile and the LISTEN is renewed by itself', { timeout: 60_000 }, async () => {
    const database = new PostgresDatabase(pg.url);
    try {
      const heard: string[] = [];
      await database.listen('outage_probe', (payload) => heard.push(payload));
      await pg.stop();
      await assert.rejects(database.query('SELECT 1'), (error) => hasCode(error, 'DatabaseUnavailable'));
      await pg.start();
      // The pool reconnects by itself; the listener hears a NOTIFY sent after the restart.
      for (let i = 0; i < 100 && !heard.includes('after'); i++) {
        await database.query(`NOTIFY outage_probe, 'after'`).catch(() => undefined);
        await sleep(100);
      }
      assert.ok(heard.includes('after'), `a NOTIFY after the restart reached the listener (heard: ${JSON.stringify(heard)})`);
    } finally {
      await database.close();
    }
  });

  it('given 2 workers training 2 experiments and an API process, when Postgres is down for 10 s, then the API answers 503 (never another 5xx), the workers wait and continue, SSE goes on, and every step is recorded once, in order', { timeout: 900_000 }, async () => {
    const setup = new PostgresDatabase(pg.url);
    await migrate(setup);
    const runtime = createRuntime(setup);
    const table = loadNasBenchMacro(nasBenchMacroJson);
    // Long enough that neither experiment finishes before both workers are under way: on an idle
    // machine a worker trains a tabular experiment at several hundred steps/s, and the second
    // worker process may start a second or more after the first (600 steps once finished first).
    const schedule = { stepsPerEpoch: 100, warmupSteps: 400, treeBuildingSteps: 800, mctSteps: 4800 };
    const steps = 6000;
    const ids: string[] = [];
    for (let seed = 1; seed <= 2; seed++) ids.push(await createOracleExperiment(runtime.service, table, { schedule, seed, search: { strategy: 'random', candidates: 5 } }));
    await setup.close();

    const env = { DATABASE_URL: pg.url, MCTNAS_API_TOKEN: TOKEN };
    const api = await startServe(env);
    // A lease TTL longer than the outage: the workers keep their experiments through it.
    const workers: CliProcess[] = ['outage-a', 'outage-b'].map((id) => startCli(['worker', '--worker-id', id, '--exit-when-idle', '--lease-ttl-ms', '30000', '--poll-ms', '200'], env));
    const live = sse(`${api.url}/experiments/${ids[0]}/events/stream`, (got) => got.some((m) => m.data.type === 'ExperimentCompleted'));

    let probing = true;
    try {
      // Probe the API all along: a read, /health and two writes (a heartbeat and a tell for a
      // lease nobody holds: 409 while the database is up, 503 while it is down).
      const answers: { at: number; what: string; status: number }[] = [];
      const probe = (async () => {
        while (probing) {
          const at = Date.now();
          const results = await Promise.all([
            http(api.url, 'GET', '/health').then((r) => ['health', r.status] as const, () => ['health', 0] as const),
            http(api.url, 'GET', `/experiments/${ids[1]}`).then((r) => ['read', r.status] as const, () => ['read', 0] as const),
            http(api.url, 'POST', `/experiments/${ids[1]}/lease/heartbeat`, { leaseId: 'nobody' }, TOKEN).then((r) => ['heartbeat', r.status] as const, () => ['heartbeat', 0] as const),
            http(api.url, 'POST', `/experiments/${ids[1]}/tell`, { leaseId: 'nobody', step: 0, loss: 1 }, TOKEN).then((r) => ['tell', r.status] as const, () => ['tell', 0] as const),
          ]);
          for (const [what, status] of results) answers.push({ at, what, status });
          await sleep(250);
        }
      })();

      // Both experiments well into training, then the database goes away.
      const progress = async (id: string) => (await http(api.url, 'GET', `/experiments/${id}`)).body?.lastRewardedStep ?? -1;
      for (let i = 0; i < 2400 && ((await progress(ids[0]!)) < 20 || (await progress(ids[1]!)) < 20); i++) await sleep(25);
      const before = await Promise.all(ids.map(progress));
      assert.ok(before.every((step) => step >= 20 && step < steps - 1), `both experiments mid-training when the database stops: ${before}`);
      const streamedBefore = live.received.length;
      await pg.stop();
      const stoppedAt = Date.now();
      await sleep(500);
      const created = await http(api.url, 'POST', '/experiments', { name: 'during the outage', searchSpace: { preset: 'nas-bench-macro' }, schedule: { stepsPerEpoch: 5, warmupSteps: 5, treeBuildingSteps: 5, mctSteps: 5 }, dataset: { kind: 'synthetic' } }, TOKEN);
      assert.equal(created.status, 503, JSON.stringify(created.body));
      assert.equal(created.body.code, 'DatabaseUnavailable');
      await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
      const restartAt = Date.now();
      await pg.start();

      const codes = await Promise.all(workers.map((w) => w.exited));
      probing = false;
      await probe;
      const streamed = await Promise.race([live.messages, sleep(30_000).then(() => null)]);
      live.close();
      api.child.kill('SIGINT');
      await api.exited;
      assert.deepEqual(codes, [0, 0], workers.map((w) => w.output()).join('\n---\n'));

      // The API: 503 while the database was down (health, reads, writes), never another 5xx,
      // and healthy again soon after the restart.
      const during = answers.filter((a) => a.at > stoppedAt + 300 && a.at < restartAt);
      assert.ok(during.length >= 20, `probed during the outage (${during.length})`);
      assert.deepEqual([...new Set(during.map((a) => `${a.what} ${a.status}`))].sort(), ['health 503', 'heartbeat 503', 'read 503', 'tell 503']);
      const failures = answers.filter((a) => (a.status >= 500 && a.status !== 503) || a.status === 0);
      assert.deepEqual(failures, [], 'no 5xx but 503, and always an answer');
      const healthyAgain = answers.find((a) => a.what === 'health' && a.at > restartAt && a.status === 200);
      assert.ok(healthyAgain, 'healthy after the restart');
      console.log(`# API healthy ${healthyAgain.at - restartAt} ms after the restart; ${during.length} answers during the outage, all 503`);

      // The workers said they waited, and continued.
      for (const w of workers) assert.match(w.output(), /database unavailable/, w.output());

      // The history: every experiment completed once, every step sampled and rewarded once and in order.
      const check = new PostgresDatabase(pg.url);
      try {
        const store = createRuntime(check).store;
        for (const id of ids) {
          const events = await store.readStream(id);
          assert.equal(events.filter((e) => e.type === 'ExperimentCompleted').length, 1, `${id} completes exactly once`);
          const rewarded = events.filter((e) => e.type === 'RewardRecorded').map((e) => (e.data as { step: number }).step);
          assert.deepEqual(rewarded, Array.from({ length: steps }, (_, i) => i), `${id}: every step rewarded once, in order`);
          const sampled = events.filter((e) => e.type === 'ArchitectureSampled').map((e) => (e.data as { step: number }).step);
          assert.deepEqual(sampled, rewarded, `${id}: every step sampled once, in order`);
          assert.equal(events.filter((e) => e.type === 'SearchCompleted').length, 1);
          assert.equal(events.filter((e) => e.type === 'WorkerLeaseExpired').length, 0, 'no takeover: the lease outlived the outage');
        }
        const experiments = (await check.query(`SELECT count(DISTINCT stream_id) AS n FROM events`))[0]!.n;
        assert.equal(Number(experiments), 2, 'the create refused during the outage wrote nothing');
        // The SSE stream opened before the outage went on after it: the whole history, in order.
        assert.ok(streamed, 'the SSE stream delivered the completion');
        assert.ok(streamed.length > streamedBefore, 'events after the outage came through the same stream');
        const history = (await store.readStream(ids[0]!)).map((e) => `${e.transactionId}:${e.position}`);
        assert.deepEqual(streamed.map((m) => m.id), history.slice(0, streamed.length), 'SSE across the outage: no gap, no duplicate, in order');
      } finally {
        await check.close();
      }
    } finally {
      probing = false;
      live.close();
      for (const p of [api, ...workers]) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
  });
});
