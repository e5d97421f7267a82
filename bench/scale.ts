/**
 * `npm run bench:scale` (Postgres, DATABASE_URL): the worker pool and API replicas as separate
 * processes on one database.
 *  1. throughput: 4 tabular experiments trained by 1, 2 and 4 `mctnas worker` processes;
 *     steps/s from the first sample to the last reward (database timestamps), ratio to 1 worker;
 *  2. takeover: two workers on one experiment, the lease holder killed with kill -9; time from
 *     the kill to the other worker's WorkerLeaseExpired, against lease TTL + 1 s;
 *  3. replica reads: closed-loop clients reading status and tree snapshots from 1 `mctnas serve`
 *     and from 2 on the same database (requests spread over both).
 * The load average is recorded beside every figure: the machine is shared.
 * Writes bench/results/scale.json.
 */
import { loadavg } from 'node:os';
import { migrate } from '../src/database/data-source.js';
import { PostgresDatabase } from '../src/database/postgres-database.js';
import { createRuntime } from '../src/runtime.js';
import { createOracleExperiment } from '../src/tabular/oracle-experiment.js';
import { loadNasBenchMacro } from '../src/tabular/table.js';
import { http, startCli, startServe } from '../test/support/cli-processes.js';
import { scratchDatabase, sleep } from '../test/support/databases.js';
import { nasBenchMacroJson } from '../test/support/paths.js';
import { percentile, printTable, writeJson } from './support.js';

const EXPERIMENTS = 4;
const SCHEDULE = { stepsPerEpoch: 10, warmupSteps: 100, treeBuildingSteps: 100, mctSteps: 400 };
const STEPS = SCHEDULE.warmupSteps + SCHEDULE.treeBuildingSteps + SCHEDULE.mctSteps;
const WORKER_COUNTS = [1, 2, 4];
const TAKEOVER_TTL_MS = 2000;
const TAKEOVER_POLL_MS = 500;
const TAKEOVER_TRIALS = 3;
const READ_CLIENTS = 16;
const READ_SECONDS = 8;
const TOKEN = 'bench-scale-token-0123456789';

const table = loadNasBenchMacro(nasBenchMacroJson);
const load = () => loadavg()[0]!;

async function freshDatabase(tag: string) {
  const scratch = await scratchDatabase(tag);
  const database = new PostgresDatabase(scratch.url);
  await migrate(database);
  return { scratch, database, runtime: createRuntime(database) };
}

async function throughput(workers: number) {
  const { scratch, database, runtime } = await freshDatabase(`scale${workers}`);
  try {
    const ids: string[] = [];
    for (let seed = 1; seed <= EXPERIMENTS; seed++) ids.push(await createOracleExperiment(runtime.service, table, { schedule: SCHEDULE, seed, search: { strategy: 'random', candidates: 5 } }));
    const loadBefore = load();
    const processes = Array.from({ length: workers }, (_, i) => startCli(['worker', '--worker-id', `bench-${i}`, '--exit-when-idle', '--poll-ms', '200'], { DATABASE_URL: scratch.url }));
    const codes = await Promise.all(processes.map((p) => p.exited));
    if (codes.some((c) => c !== 0)) throw new Error(`a worker failed:\n${processes.map((p) => p.output()).join('\n---\n')}`);
    let first = Infinity;
    let last = 0;
    let steps = 0;
    for (const id of ids) {
      const events = await runtime.store.readStream(id, { types: ['ArchitectureSampled', 'RewardRecorded'] });
      const rewards = events.filter((e) => e.type === 'RewardRecorded');
      if (rewards.length !== STEPS || new Set(rewards.map((e) => (e.data as { step: number }).step)).size !== STEPS) throw new Error(`${id}: ${rewards.length} rewards, expected ${STEPS} distinct`);
      steps += rewards.length;
      first = Math.min(first, events[0]!.createdAt.getTime());
      last = Math.max(last, rewards.at(-1)!.createdAt.getTime());
    }
    const seconds = (last - first) / 1000;
    return { workers, experiments: EXPERIMENTS, steps, seconds, stepsPerSecond: steps / seconds, loadBefore, loadAfter: load() };
  } finally {
    await database.close();
    await scratch.drop();
  }
}

async function takeover() {
  const { scratch, database, runtime } = await freshDatabase('takeover');
  const trials = [];
  try {
    for (let trial = 0; trial < TAKEOVER_TRIALS; trial++) {
      const id = await createOracleExperiment(runtime.service, table, { schedule: { stepsPerEpoch: 10, warmupSteps: 100, treeBuildingSteps: 100, mctSteps: 20_000 }, seed: trial + 1 });
      const env = { DATABASE_URL: scratch.url };
      const args = (name: string) => ['worker', '--worker-id', name, '--lease-ttl-ms', String(TAKEOVER_TTL_MS), '--poll-ms', String(TAKEOVER_POLL_MS)];
      const workers = new Map([`t${trial}-a`, `t${trial}-b`].map((name) => [name, startCli(args(name), env)]));
      let holder: string | null = null;
      for (let i = 0; i < 1200 && !holder; i++) {
        const view = await runtime.projections.current(id);
        if (view.tree.lastRewardedStep >= 30 && view.status.lease) holder = view.status.lease.workerId;
        else await sleep(100);
      }
      if (!holder) throw new Error('no worker started the experiment');
      const loadBefore = load();
      const killedAt = Date.now();
      workers.get(holder)!.child.kill('SIGKILL');
      let expired = null;
      for (let i = 0; i < 600 && !expired; i++) {
        expired = (await runtime.store.readStream(id, { types: ['WorkerLeaseExpired'] }))[0] ?? null;
        if (!expired) await sleep(50);
      }
      if (!expired) throw new Error('no takeover within 30 s');
      const takeoverMs = expired.createdAt.getTime() - killedAt;
      const lastHeartbeatToKillMs = killedAt - (new Date((expired.data as { expiredAt: string }).expiredAt).getTime() - TAKEOVER_TTL_MS);
      for (const [name, worker] of workers) if (name !== holder) worker.child.kill('SIGKILL');
      await Promise.all([...workers.values()].map((w) => w.exited));
      await runtime.service.pause(id, 'benchmark trial over');
      trials.push({ takeoverMs, targetMs: TAKEOVER_TTL_MS + 1000, withinTarget: takeoverMs <= TAKEOVER_TTL_MS + 1000, leaseTtlMs: TAKEOVER_TTL_MS, pollMs: TAKEOVER_POLL_MS, lastHeartbeatToKillMs, loadBefore });
    }
    return trials;
  } finally {
    await database.close();
    await scratch.drop();
  }
}

async function replicaReads() {
  const { scratch, database, runtime } = await freshDatabase('replicas');
  const replicas: Awaited<ReturnType<typeof startServe>>[] = [];
  try {
    const id = await createOracleExperiment(runtime.service, table, { schedule: SCHEDULE, seed: 1, search: { strategy: 'random', candidates: 5 } });
    const worker = startCli(['worker', '--exit-when-idle'], { DATABASE_URL: scratch.url });
    if ((await worker.exited) !== 0) throw new Error(worker.output());
    for (let i = 0; i < 2; i++) replicas.push(await startServe({ DATABASE_URL: scratch.url, MCTNAS_API_TOKEN: TOKEN }));
    const paths = [`/experiments/${id}`, `/experiments/${id}/tree?depth=2&top=10`];
    const rows = [];
    for (const count of [1, 2]) {
      const urls = replicas.slice(0, count).map((r) => r.url);
      for (const url of urls) for (const path of paths) await http(url, 'GET', path); // warm the projection caches
      const loadBefore = load();
      const latencies: number[] = [];
      let errors = 0;
      const end = Date.now() + READ_SECONDS * 1000;
      await Promise.all(
        Array.from({ length: READ_CLIENTS }, async (_, client) => {
          for (let n = client; Date.now() < end; n++) {
            const started = performance.now();
            const answer = await http(urls[n % urls.length]!, 'GET', paths[n % paths.length]!);
            if (answer.status !== 200) errors += 1;
            latencies.push(performance.now() - started);
          }
        }),
      );
      rows.push({ replicas: count, clients: READ_CLIENTS, requests: latencies.length, requestsPerSecond: latencies.length / READ_SECONDS, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors, loadBefore, loadAfter: load() });
    }
    return rows;
  } finally {
    for (const r of replicas) {
      r.child.kill('SIGINT');
      await r.exited;
    }
    await database.close();
    await scratch.drop();
  }
}

const startedLoad = loadavg();
const runs = [];
for (const workers of WORKER_COUNTS) {
  const run = await throughput(workers);
  runs.push(run);
  console.log(`# ${workers} worker(s): ${run.stepsPerSecond.toFixed(1)} steps/s (load ${run.loadBefore.toFixed(1)})`);
}
const base = runs[0]!.stepsPerSecond;
console.log(`\nthroughput: ${EXPERIMENTS} tabular experiments x ${STEPS} steps (+ a 5-candidate random search each)`);
printTable(runs.map((r) => ({ workers: r.workers, steps: r.steps, seconds: r.seconds, 'steps/s': r.stepsPerSecond, 'x 1 worker': r.stepsPerSecond / base, 'load before': r.loadBefore, 'load after': r.loadAfter })));

const takeovers = await takeover();
console.log(`\ntakeover after kill -9 (lease TTL ${TAKEOVER_TTL_MS} ms, idle worker polling every ${TAKEOVER_POLL_MS} ms; target TTL + 1 s)`);
printTable(takeovers.map((t, i) => ({ trial: i + 1, 'takeover ms': t.takeoverMs, 'target ms': t.targetMs, 'last heartbeat before kill ms': t.lastHeartbeatToKillMs, load: t.loadBefore })));

const reads = await replicaReads();
console.log(`\nreplica reads: ${READ_CLIENTS} closed-loop clients, status + tree (depth 2, top 10), ${READ_SECONDS} s`);
printTable(reads.map((r) => ({ replicas: r.replicas, 'req/s': r.requestsPerSecond, 'x 1 replica': r.requestsPerSecond / reads[0]!.requestsPerSecond, 'p50 ms': r.p50Ms, 'p99 ms': r.p99Ms, errors: r.errors, load: r.loadBefore })));

writeJson('bench/results/scale.json', {
  machine: { cores: (await import('node:os')).cpus().length, loadAverageAtStart: startedLoad, loadAverageAtEnd: loadavg() },
  throughput: { experiments: EXPERIMENTS, schedule: SCHEDULE, stepsPerExperiment: STEPS, runs: runs.map((r) => ({ ...r, ratioToOneWorker: r.stepsPerSecond / base })) },
  takeover: takeovers,
  replicaReads: reads.map((r) => ({ ...r, ratioToOneReplica: r.requestsPerSecond / reads[0]!.requestsPerSecond })),
});
console.log('\nwrote bench/results/scale.json');
