/**
 * `npm run bench:leaks`: does the service keep anything per request? The whole application (Nest
 * on the embedded database; `BENCH_LEAKS_DB=postgres` for Postgres) serves a mix of requests and
 * SSE connect/disconnects from clients in a worker thread (their garbage lives in another
 * heap): a warm-up round, then measured rounds of REQUESTS/ROUNDS requests and SSE/ROUNDS
 * streams each (default 10,000 and 1,000 in all). After each round the server side is sampled
 * after full garbage collections (`--expose-gc`): heap used, external memory, active handles
 * and timers, open sockets, SSE streams and hub subscribers. A leak grows with every round; a
 * warm cache grows once. Prints a table and writes bench/results/leaks.json.
 */
import { NestFactory } from '@nestjs/core';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { LiveEvents } from '../src/api/events/live-events.js';
import { configureHttpApi } from '../src/api/shared/http.js';
import { AppModule } from '../src/app.module.js';
import type { AppConfig } from '../src/config.js';
import { createRuntime } from '../src/runtime.js';
import { testBackends } from '../test/support/databases.js';
import { printTable, writeJson } from './support.js';

const REQUESTS = Number(process.env.BENCH_LEAKS_REQUESTS ?? 10_000);
const SSE = Number(process.env.BENCH_LEAKS_SSE ?? 1_000);
const ROUNDS = 4;
const CONCURRENCY = 16;
const TOKEN = 'bench-token-0123456789abcdef';

// ---- the clients (worker thread) ---------------------------------------------------------

interface Round {
  readonly port: number;
  readonly requests: number;
  readonly streams: number;
  readonly experiments: readonly { id: string; leaseId: string }[];
  readonly seed: number;
}

interface RoundResult {
  readonly statuses: Record<string, number>;
  readonly streams: number;
  readonly seconds: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function send(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent, headers: { Authorization: `Bearer ${TOKEN}`, ...(text ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}) } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** One SSE client: connects, waits for the first event, disconnects. */
function stream(port: number, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: `/experiments/${id}/events/stream`, headers: { Accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (chunk.includes('data:')) {
          res.destroy();
          resolve();
        }
      });
      res.on('error', () => undefined);
      res.on('close', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

/** The request mix: reads of every kind, ask/tell by the lease holder, creations, refusals. */
async function oneRequest(round: Round, n: number, training: Map<string, number>): Promise<number> {
  const e = round.experiments[n % round.experiments.length]!;
  const base = `/experiments/${e.id}`;
  switch (n % 12) {
    case 0:
      return (await send(round.port, 'GET', base)).status;
    case 1:
      return (await send(round.port, 'GET', `${base}/tree?depth=2&top=10`)).status;
    case 2:
      return (await send(round.port, 'GET', `${base}/events?limit=50&after=${n % 40}`)).status;
    case 3:
      return (await send(round.port, 'GET', `${base}/nodes/root?limit=20`)).status;
    case 4:
      return (await send(round.port, 'GET', '/experiments?limit=20')).status;
    case 5:
      return (await send(round.port, 'GET', '/health')).status;
    case 6: {
      // One trainer per experiment at a time: ask, then tell the step asked.
      if (training.has(e.id)) return (await send(round.port, 'POST', `${base}/lease/heartbeat`, { leaseId: e.leaseId })).status;
      training.set(e.id, n);
      try {
        const asked = await send(round.port, 'POST', `${base}/ask`, { leaseId: e.leaseId, search: false });
        const step = (JSON.parse(asked.body) as { step?: number }).step;
        if (step === undefined) return asked.status;
        return (await send(round.port, 'POST', `${base}/tell`, { leaseId: e.leaseId, step, loss: 1 + (step % 7) / 10 })).status;
      } finally {
        training.delete(e.id);
      }
    }
    case 7:
      return (await send(round.port, 'POST', '/experiments', { name: `leak-${round.seed}-${n}`, searchSpace: { preset: 'nas-bench-macro' }, schedule: { stepsPerEpoch: 2, warmupSteps: 2, treeBuildingSteps: 2, mctSteps: 2 }, dataset: { kind: 'synthetic' } })).status;
    case 8:
      return (await send(round.port, 'POST', '/experiments', { name: '\ud800', searchSpace: { preset: 'nope' } })).status;
    case 9:
      return (await send(round.port, 'GET', `/experiments/exp-missing-${n}`)).status;
    case 10:
      return (await send(round.port, 'GET', `/nope/${n}`)).status;
    default:
      return (await send(round.port, 'GET', `${base}/ops?layer=0&limit=10`)).status;
  }
}

async function runRound(round: Round): Promise<RoundResult> {
  const started = performance.now();
  const statuses: Record<string, number> = {};
  const training = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < round.requests) {
        const status = await oneRequest(round, next++, training);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  let opened = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (opened < round.streams) {
        const e = round.experiments[opened++ % round.experiments.length]!;
        await stream(round.port, e.id);
      }
    }),
  );
  return { statuses, streams: opened, seconds: (performance.now() - started) / 1000 };
}

function runClients(): void {
  parentPort!.on('message', async (round: Round | 'exit') => {
    if (round === 'exit') {
      agent.destroy();
      process.exit(0);
    }
    parentPort!.postMessage(await runRound(round));
  });
}

// ---- the server and the samples (main thread) ---------------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  readonly round: string;
  readonly requests: number;
  readonly streams: number;
  readonly heapUsedMB: number;
  readonly externalMB: number;
  readonly rssMB: number;
  readonly handles: number;
  readonly timers: number;
  readonly sockets: number;
  readonly sseStreams: number;
  readonly hubSubscribers: number;
}

async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:leaks does)');
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(100);
  }
}

async function sample(label: string, requests: number, streams: number, server: Server, live: LiveEvents): Promise<Sample> {
  // Keep-alive sockets of the clients close after the server's keep-alive timeout (5 s).
  await sleep(5_500);
  await collectGarbage();
  const memory = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  const sockets = await new Promise<number>((resolve) => server.getConnections((_, count) => resolve(count)));
  return {
    round: label,
    requests,
    streams,
    heapUsedMB: memory.heapUsed / 2 ** 20,
    externalMB: memory.external / 2 ** 20,
    rssMB: memory.rss / 2 ** 20,
    handles: resources.length,
    timers: resources.filter((r) => r === 'Timeout').length,
    sockets,
    sseStreams: live.openStreams,
    hubSubscribers: live.hubSubscribers,
  };
}

async function main(): Promise<void> {
  const backendName = process.env.BENCH_LEAKS_DB === 'postgres' ? 'postgres' : 'pglite';
  const config: AppConfig = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: null,
    dataDir: '/tmp/mctnas-bench-leaks',
    logLevel: 'silent',
    workerId: null,
    apiToken: TOKEN,
    protectReads: false,
    bodyLimitBytes: 1024 * 1024,
  };
  const database = await testBackends.find((b) => b.name === backendName)!.open();
  const runtime = createRuntime(database);
  const app = await NestFactory.create(AppModule.create(config, runtime), { logger: false });
  configureHttpApi(app, config);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const port = (server.address() as AddressInfo).port;
  const live = app.get(LiveEvents);
  const worker = new Worker(new URL(import.meta.url));
  const round = (r: Round) =>
    new Promise<RoundResult>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(r);
    });
  try {
    // Eight experiments long enough never to finish training during the run.
    const experiments = [];
    for (let i = 0; i < 8; i++) {
      const { id } = await runtime.service.create({ name: `leaks-${i}`, searchSpace: { preset: 'nas-bench-macro' }, schedule: { stepsPerEpoch: 10, warmupSteps: 100, treeBuildingSteps: 1_000, mctSteps: 100_000 }, dataset: { kind: 'synthetic' }, seed: i });
      const { leaseId } = await runtime.service.acquireLease(id, `bench-${i}`, 3_600_000);
      experiments.push({ id, leaseId });
    }
    const perRound = { requests: Math.ceil(REQUESTS / ROUNDS), streams: Math.ceil(SSE / ROUNDS) };
    const warm = await round({ port, ...perRound, experiments, seed: 0 });
    const samples: Sample[] = [await sample('after warm-up (baseline)', 0, 0, server, live)];
    const statuses: Record<string, number> = { ...warm.statuses };
    let requests = 0;
    let streams = 0;
    let seconds = 0;
    for (let r = 1; r <= ROUNDS; r++) {
      const result = await round({ port, ...perRound, experiments, seed: r });
      requests += perRound.requests;
      streams += result.streams;
      seconds += result.seconds;
      for (const [status, count] of Object.entries(result.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
      samples.push(await sample(`after round ${r}`, requests, streams, server, live));
      console.log(`round ${r}: ${perRound.requests} requests + ${result.streams} SSE streams in ${result.seconds.toFixed(1)} s`);
    }
    const base = samples[0]!;
    const last = samples.at(-1)!;
    const rows = samples.map((s) => ({
      sample: s.round,
      requests: s.requests,
      'SSE streams': s.streams,
      'heap MB': s.heapUsedMB,
      'heap / baseline': s.heapUsedMB / base.heapUsedMB,
      'external MB': s.externalMB,
      'rss MB': s.rssMB,
      handles: s.handles,
      timers: s.timers,
      sockets: s.sockets,
      'open SSE': s.sseStreams,
      'hub subs': s.hubSubscribers,
    }));
    printTable(rows);
    // Growth per round over the last rounds: a leak keeps growing, a cache settles.
    const perRoundGrowthKB = ((last.heapUsedMB - samples[1]!.heapUsedMB) / (ROUNDS - 1)) * 1024;
    const perRequestBytes = (perRoundGrowthKB * 1024) / perRound.requests;
    console.log(
      `heap after ${requests} requests and ${streams} SSE connect/disconnects: ${last.heapUsedMB.toFixed(1)} MB = ${(last.heapUsedMB / base.heapUsedMB).toFixed(3)} x the baseline ${base.heapUsedMB.toFixed(1)} MB; ` +
        `growth over rounds 2-${ROUNDS}: ${perRoundGrowthKB.toFixed(0)} KB per round (${perRequestBytes.toFixed(1)} bytes per request); statuses ${JSON.stringify(statuses)}`,
    );
    writeJson('bench/results/leaks.json', {
      backend: backendName,
      requests,
      sseStreams: streams,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      seconds,
      statuses,
      samples,
      heapGrowthPerRoundKB: perRoundGrowthKB,
      heapGrowthPerRequestBytes: perRequestBytes,
      heapRatioToBaseline: last.heapUsedMB / base.heapUsedMB,
    });
  } finally {
    worker.postMessage('exit');
    await app.close();
  }
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else runClients();
