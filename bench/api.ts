/**
 * `npm run bench:api`: the HTTP API on Postgres.
 *  1. Tree snapshot latency with 50 concurrent clients on a tree of 100k+ nodes (the ImageNet
 *     space, 21 layers x 13 ops, built from synthetic tree-building steps appended in big
 *     batches): the reads a client makes (depth-limited views, top-k) and the full tree.
 *  2. SSE fan-out: 100 subscribers on one experiment, delivery lag from commit to receipt.
 * The clients (HTTP load and SSE subscribers) run in a worker thread, so they do not share the
 * server's event loop; they do share the machine's cores. Snapshot latency is measured closed
 * loop (each client sends its next request as soon as the answer arrives: the saturation case)
 * and with a think time between a client's requests (a dashboard polling); a polling client
 * that sends the entity tag back (`If-None-Match`) gets 304 while nothing changed. The anchor
 * for the closed-loop rows: a bare `node:http` server in the same process answering a constant
 * body of the client view's size (the most requests per second these clients can get from this
 * machine, whatever the service does). The full tree is streamed: its throughput (MB/s) and the
 * server's peak memory above the idle level while 50 clients download it at once.
 * Prints a table and writes bench/results/api.json.
 *   BENCH_API_STEPS (default 6000) sets the tree size (~18 nodes per step).
 */
import { NestFactory } from '@nestjs/core';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { configureHttpApi } from '../src/api/shared/http.js';
import { AppModule } from '../src/app.module.js';
import type { AppConfig } from '../src/config.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import { testBackends } from '../test/support/databases.js';
import { percentile, printTable, timed, writeJson } from './support.js';
import { buildSyntheticTree } from '../test/support/synthetic-tree.js';

const STEPS = Number(process.env.BENCH_API_STEPS ?? 6000);
const CLIENTS = 50;
const SUBSCRIBERS = 100;
const SSE_EVENTS = 200;
const SSE_INTERVAL_MS = 20;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across threads. */
const clock = () => performance.timeOrigin + performance.now();

// ---- the clients (worker thread) ---------------------------------------------------------

type Command =
  | { kind: 'load'; port: number; path: string; clients: number; perClient: number; thinkMs: number; revalidate?: boolean }
  | { kind: 'subscribe'; port: number; path: string; count: number }
  | { kind: 'collect' };

interface LoadResult {
  latencies: number[];
  seconds: number;
  bytes: number;
  failures: number;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1024 });

function get(port: number, path: string, etag?: string): Promise<{ status: number; bytes: number; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers = etag ? { 'If-None-Match': etag } : {};
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: keepAlive, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, etag: res.headers.etag }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function load(command: Extract<Command, { kind: 'load' }>): Promise<LoadResult> {
  const latencies: number[] = [];
  let bytes = 0;
  let failures = 0;
  const { seconds } = await timed(() =>
    Promise.all(
      Array.from({ length: command.clients }, async (_, client) => {
        // Spread the polling clients over the think time instead of starting them in lockstep.
        if (command.thinkMs > 0) await sleep((client / command.clients) * command.thinkMs);
        let etag: string | undefined;
        for (let i = 0; i < command.perClient; i++) {
          const start = performance.now();
          const res = await get(command.port, command.path, command.revalidate ? etag : undefined);
          latencies.push(performance.now() - start);
          if (res.status !== 200 && res.status !== 304) failures++;
          if (res.status === 200) bytes = res.bytes;
          etag = res.etag;
          if (command.thinkMs > 0) await sleep(command.thinkMs);
        }
      }),
    ),
  );
  return { latencies, seconds, bytes, failures };
}

const received: Map<number, number>[] = [];

function subscribe(port: number, path: string): Promise<void> {
  const times = new Map<number, number>();
  received.push(times);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Accept: 'text/event-stream' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = clock();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const id = /^id: ?\d+:(\d+)$/m.exec(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (id) times.set(Number(id[1]), now);
        }
      });
      res.on('error', () => undefined);
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
}

function runClients(): void {
  parentPort!.on('message', async (command: Command) => {
    if (command.kind === 'load') parentPort!.postMessage(await load(command));
    else if (command.kind === 'subscribe') {
      await Promise.all(Array.from({ length: command.count }, () => subscribe(command.port, command.path)));
      parentPort!.postMessage('ready');
    } else {
      parentPort!.postMessage(received.map((m) => [...m]));
      process.exit(0);
    }
  });
}

// ---- the server and the measurements (main thread) ---------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ask<T>(worker: Worker, command: Command): Promise<T> {
  return new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(command);
  });
}

/** A bare node:http server answering `body` to every request: the request-rate ceiling of this machine for these clients. */
async function bareServer(body: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The server's peak resident and heap memory (MB) above its level at the start, sampled every 20 ms while `work` runs. */
async function peakMemory<T>(work: () => Promise<T>): Promise<{ result: T; rssMb: number; heapMb: number }> {
  global.gc?.();
  const base = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  const sample = setInterval(() => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - base.rss);
    heap = Math.max(heap, now.heapUsed - base.heapUsed);
  }, 20);
  try {
    return { result: await work(), rssMb: rss / 2 ** 20, heapMb: heap / 2 ** 20 };
  } finally {
    clearInterval(sample);
  }
}

async function main(): Promise<void> {
  const config: AppConfig = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: null,
    dataDir: '/tmp/mctnas-bench-api',
    logLevel: 'silent',
    workerId: null,
    apiToken: 'bench-token-0123456789abcdef',
    protectReads: false,
    bodyLimitBytes: 1024 * 1024,
  };
  const database = await testBackends.find((b) => b.name === 'postgres')!.open();
  const runtime = createRuntime(database);
  const app = await NestFactory.create(AppModule.create(config, runtime), { logger: false });
  configureHttpApi(app, config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const worker = new Worker(new URL(import.meta.url));
  try {
    console.log(`building a tree from ${STEPS} synthetic steps (${STEPS * 3} events)...`);
    const built = await buildSyntheticTree(runtime, STEPS);
    const first = await timed(() => get(port, `/experiments/${built.id}/tree?depth=0&top=0`));
    const stats = await runtime.projections.read(built.id, (view) => ({ nodes: view.tree.tree!.size, events: view.version }));
    console.log(`${stats.nodes} nodes from ${stats.events} events: appended in ${built.seconds.toFixed(1)} s, first read (catch-up) ${(first.seconds * 1000).toFixed(0)} ms`);

    const deepPath = await runtime.projections.read(built.id, (view) => {
      const tree = view.tree.tree!;
      for (let id = tree.size - 1; id > 0; id--) if (tree.depth[id] === 8) return tree.pathOf(id).join('.');
      return '';
    });
    const tree = `/experiments/${built.id}/tree`;
    const cases = [
      { name: 'client view: root, depth 2, top 10', path: `${tree}?depth=2&top=10`, clients: CLIENTS, perClient: 40, thinkMs: 0 },
      { name: 'client view, polling every 100 ms', path: `${tree}?depth=2&top=10`, clients: CLIENTS, perClient: 20, thinkMs: 100 },
      { name: 'client view, polling every 100 ms with If-None-Match (304)', path: `${tree}?depth=2&top=10`, clients: CLIENTS, perClient: 20, thinkMs: 100, revalidate: true },
      { name: 'client view with If-None-Match (304), closed loop', path: `${tree}?depth=2&top=10`, clients: CLIENTS, perClient: 40, thinkMs: 0, revalidate: true },
      { name: 'subtree at depth 8, 3 levels', path: `${tree}?path=${deepPath}&depth=3&top=0`, clients: CLIENTS, perClient: 40, thinkMs: 0 },
      { name: 'subtree at depth 8, polling every 100 ms', path: `${tree}?path=${deepPath}&depth=3&top=0`, clients: CLIENTS, perClient: 20, thinkMs: 100 },
      { name: 'top 100 leaves', path: `${tree}?depth=0&top=100`, clients: CLIENTS, perClient: 20, thinkMs: 0 },
      { name: 'full tree (21 levels), one client', path: `${tree}?depth=21&top=0`, clients: 1, perClient: 3, thinkMs: 0 },
      { name: 'full tree (21 levels), 50 at once', path: `${tree}?depth=21&top=0`, clients: CLIENTS, perClient: 1, thinkMs: 0 },
    ];
    // Warm-up: JIT, the snapshot cache, and the garbage the tree build left behind.
    for (const c of cases.filter((c) => c.clients === CLIENTS && c.perClient > 1)) {
      await ask<LoadResult>(worker, { kind: 'load', port, path: c.path, clients: CLIENTS, perClient: 10, thinkMs: 0 });
    }
    const snapshot = [];
    const row = (name: string, clients: number, r: LoadResult, memory?: { rssMb: number; heapMb: number }) => ({
      case: name,
      clients,
      requests: r.latencies.length,
      'p50 ms': percentile(r.latencies, 50),
      'p99 ms': percentile(r.latencies, 99),
      'max ms': Math.max(...r.latencies),
      'req/s': r.latencies.length / r.seconds,
      'body KB': r.bytes / 1024,
      'MB/s': (r.latencies.length * r.bytes) / 2 ** 20 / r.seconds,
      'peak RSS +MB': memory?.rssMb ?? 0,
      'peak heap +MB': memory?.heapMb ?? 0,
    });
    const clientView = await get(port, `${tree}?depth=2&top=10`);
    const bare = await bareServer('x'.repeat(clientView.bytes));
    try {
      await ask<LoadResult>(worker, { kind: 'load', port: bare.port, path: '/', clients: CLIENTS, perClient: 10, thinkMs: 0 });
      const r = await ask<LoadResult>(worker, { kind: 'load', port: bare.port, path: '/', clients: CLIENTS, perClient: 40, thinkMs: 0 });
      snapshot.push(row('anchor: bare node:http, constant body of the client view size', CLIENTS, r));
    } finally {
      await bare.close();
    }
    for (const c of cases) {
      const measured = await peakMemory(() => ask<LoadResult>(worker, { kind: 'load', port, path: c.path, clients: c.clients, perClient: c.perClient, thinkMs: c.thinkMs, revalidate: c.revalidate ?? false }));
      const r = measured.result;
      if (r.failures > 0) throw new Error(`${c.name}: ${r.failures} requests failed`);
      snapshot.push(row(c.name, c.clients, r, measured));
    }

    const sse = await runtime.service.create({ name: 'bench-sse', searchSpace: { preset: 'nas-bench-macro' }, schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 0, mctSteps: 0 }, dataset: { kind: 'synthetic' } });
    await ask(worker, { kind: 'subscribe', port, path: `/experiments/${sse.id}/events/stream`, count: SUBSCRIBERS });
    await sleep(500);
    const committed = new Map<number, number>();
    for (let i = 0; i < SSE_EVENTS; i++) {
      const appended = await runtime.service.append(sse.id, [{ type: i % 2 === 0 ? 'ExperimentPaused' : 'ExperimentResumed', data: { reason: `bench ${i}` } }]);
      committed.set(appended.positions[0]!, clock());
      await sleep(SSE_INTERVAL_MS);
    }
    await sleep(1000);
    const deliveries = await ask<[number, number][][]>(worker, { kind: 'collect' });
    const lags: number[] = [];
    let missing = 0;
    for (const times of deliveries.map((d) => new Map(d))) {
      for (const [position, at] of committed) {
        const got = times.get(position);
        if (got === undefined) missing++;
        // The append's answer can arrive after the NOTIFY-woken delivery: that lag is ~0.
        else lags.push(Math.max(0, got - at));
      }
    }
    const fanout = [{ subscribers: SUBSCRIBERS, events: SSE_EVENTS, deliveries: lags.length, missing, 'p50 ms': percentile(lags, 50), 'p99 ms': percentile(lags, 99), 'max ms': Math.max(...lags) }];

    console.log(`\ntree snapshot latency, ${stats.nodes} nodes (target: limited views p99 <= 10 ms with ${CLIENTS} closed-loop clients; full tree streamed >= 50 MB/s, memory flat)`);
    printTable(snapshot);
    console.log(`\nSSE fan-out: delivery lag from commit to receipt, ${SSE_EVENTS} events at ${1000 / SSE_INTERVAL_MS}/s`);
    printTable(fanout);
    writeJson('bench/results/api.json', { date: new Date().toISOString(), backend: 'postgres', tree: { nodes: stats.nodes, events: stats.events, appendSeconds: built.seconds, firstReadMs: first.seconds * 1000 }, snapshot, fanout });
  } finally {
    await worker.terminate();
    keepAlive.destroy();
    await app.close();
  }
}

if (isMainThread) await main();
else runClients();
