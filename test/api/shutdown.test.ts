/**
 * Clean shutdown under load, on a real `mctnas serve` process on both backends: SIGTERM while
 * an external trainer runs ask/tell over keep-alive, SSE streams are open and readers poll.
 * The process exits 0 within a bound; every request is answered 2xx or 503 ShuttingDown (or
 * refused once the port is closed), never cut mid-commit; every tell answered 200 is in the
 * history; no step is half-written (each reward with its visit counts in one transaction). The
 * generated token is never printed, and the embedded database's files are private.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { Database } from '../../src/database/database.js';
import { PgliteDatabase } from '../../src/database/pglite-database.js';
import { PostgresDatabase } from '../../src/database/postgres-database.js';
import { adminUrl } from '../support/databases.js';
import { repoRoot } from '../support/paths.js';
import { smallRun, syntheticLoss, TOKEN } from './support.js';

/** SIGTERM to exit: the 5 s grace for running requests plus closing; generous for a loaded CI machine. */
const EXIT_WITHIN_MS = 10_000;

interface Service {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stdout: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startServe(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'serve'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', MCTNAS_EXIT_AFTER_JOB: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), 240_000);
    const check = () => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`service exited: ${out}`)));
  });
  return { child, port, stdout: () => out, exited };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${TOKEN}`, ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) } },
      (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: data ? JSON.parse(data) : null }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** An SSE stream; resolves `ended` when the server ends it. */
function openStream(port: number, id: string): { events: () => number; ended: Promise<string> } {
  let events = 0;
  const ended = new Promise<string>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/experiments/${id}/events/stream`, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.on('data', (chunk: Buffer) => (events += (chunk.toString().match(/^id: /gm) ?? []).length));
      res.on('end', () => resolve('ended'));
      res.on('error', () => resolve('error'));
      res.on('close', () => resolve('closed'));
    });
    req.on('error', () => resolve('error'));
  });
  return { events: () => events, ended };
}

const isRefused = (error: unknown) => ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'socket hang up'].some((text) => String((error as Error).message ?? '').includes(text) || (error as NodeJS.ErrnoException).code === text);

interface Backend {
  readonly name: string;
  env(): Promise<Record<string, string>>;
  open(): Promise<Database>;
  cleanup(): Promise<void>;
}

function postgresBackend(): Backend {
  const name = `mctnas_sd_${process.pid}_${Date.now().toString(36)}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  return {
    name: 'postgres',
    env: async () => {
      await admin(`CREATE DATABASE ${name}`);
      return { DATABASE_URL: url.toString(), MCTNAS_DATA_DIR: mkdtempSync(join(tmpdir(), 'mctnas-sd-')) };
    },
    open: async () => new PostgresDatabase(url.toString(), 2),
    cleanup: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

function pgliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'mctnas-sd-'));
  return {
    name: 'pglite',
    env: async () => ({ DATABASE_URL: '', MCTNAS_DATA_DIR: dir }),
    open: () => PgliteDatabase.open(join(dir, 'pglite')),
    cleanup: async () => undefined,
  };
}

for (const backend of [postgresBackend(), pgliteBackend()]) {
  describe(`clean shutdown under load on ${backend.name}`, () => {
    after(() => backend.cleanup());

    it('given a trainer, SSE streams and readers at work, when SIGTERM arrives, then running commits finish, no step is half-written and the process exits 0 within the bound', { timeout: 420_000 }, async () => {
      const env = await backend.env();
      const service = await startServe({ ...env, MCTNAS_API_TOKEN: TOKEN });
      const { port } = service;
      const id = (await request(port, 'POST', '/experiments', { ...smallRun, schedule: { stepsPerEpoch: 10, warmupSteps: 5, treeBuildingSteps: 400, mctSteps: 400 } })).body.id as string;
      const leaseId = (await request(port, 'POST', `/experiments/${id}/lease`, { workerId: 'trainer', ttlMs: 600_000 })).body.leaseId as string;

      const answered: { step: number; position: number }[] = [];
      const statuses = new Map<number, number>();
      const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
      let stopped = false;
      const trainer = (async () => {
        while (!stopped) {
          try {
            const asked = await request(port, 'POST', `/experiments/${id}/ask`, { leaseId });
            count(asked.status);
            if (asked.status !== 200) break;
            const told = await request(port, 'POST', `/experiments/${id}/tell`, { leaseId, step: asked.body.step, loss: syntheticLoss(asked.body.architecture, asked.body.step) });
            count(told.status);
            if (told.status !== 200) break;
            answered.push({ step: told.body.step, position: told.body.position });
          } catch (error) {
            if (!isRefused(error)) throw error;
            break;
          }
        }
      })();
      const readers = Array.from({ length: 3 }, async () => {
        while (!stopped) {
          try {
            count((await request(port, 'GET', `/experiments/${id}/tree?depth=2&top=5`)).status);
          } catch (error) {
            if (!isRefused(error)) throw error;
            break;
          }
        }
      });
      const streams = Array.from({ length: 4 }, () => openStream(port, id));

      while (answered.length < 30) await new Promise((resolve) => setTimeout(resolve, 20));
      const signalled = performance.now();
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      stopped = true;
      await Promise.all([trainer, ...readers]);
      const ended = await Promise.all(streams.map((s) => s.ended));
      const exitMs = exit.at - signalled;

      assert.equal(exit.code, 0, `exit code (signal ${exit.signal}); output:\n${service.stdout().slice(-2000)}`);
      assert.ok(exitMs < EXIT_WITHIN_MS, `exited ${exitMs.toFixed(0)} ms after SIGTERM`);
      const errors = [...statuses].filter(([status]) => status >= 500 && status !== 503);
      assert.deepEqual(errors, [], `statuses ${JSON.stringify([...statuses])}`);
      assert.ok(streams.every((s) => s.events() > 0), 'every stream delivered events before the signal');
      assert.ok(ended.every((how) => how !== 'error'), `streams ended: ${ended.join(', ')}`);

      const db = await backend.open();
      try {
        const rows = await db.query<{ type: string; step: unknown; position: unknown; tx: unknown }>(
          `SELECT type, (data->>'step')::int AS step, position, transaction_id::text AS tx FROM events WHERE stream_id = $1 ORDER BY position`,
          [id],
        );
        const rewards = rows.filter((r) => r.type === 'RewardRecorded').map((r) => Number(r.step));
        assert.deepEqual(rewards, rewards.map((_, i) => i), 'rewards of steps 0..k, each once, in order');
        for (const { step, position } of answered) {
          assert.ok(rows.some((r) => r.type === 'RewardRecorded' && Number(r.step) === step && Number(r.position) === position), `answered tell of step ${step} is in the history`);
        }
        const visits = rows.filter((r) => r.type === 'VisitCountsUpdated');
        for (const reward of rows.filter((r) => r.type === 'RewardRecorded' && Number(r.step) >= 5)) {
          assert.ok(visits.some((v) => Number(v.step) === Number(reward.step) && String(v.tx) === String(reward.tx)), `step ${String(reward.step)}: reward and visit counts in one transaction`);
        }
        const samples = rows.filter((r) => r.type === 'ArchitectureSampled').map((r) => Number(r.step));
        assert.ok(samples.length <= rewards.length + 1, 'at most one step sampled and not rewarded');
        console.log(`# ${backend.name}: exit ${exit.code} ${exitMs.toFixed(0)} ms after SIGTERM; ${rewards.length} steps recorded, ${answered.length} tells answered; statuses ${JSON.stringify([...statuses])}; streams ${ended.join(',')}`);
      } finally {
        await db.close();
      }
      assert.ok(!service.stdout().includes(TOKEN), 'the token is never printed');
    });
  });
}

describe('secrets on disk and in output (embedded database)', () => {
  it('given a first start without a token, then the token is not printed, the data directory is 0700, its files are 0600, and /health shows no path', { timeout: 420_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mctnas-secret-'));
    const service = await startServe({ DATABASE_URL: '', MCTNAS_DATA_DIR: dir, MCTNAS_API_TOKEN: '' });
    try {
      const health = await new Promise<string>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port: service.port, path: '/health' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject),
      );
      assert.ok(!health.includes(dir), `health: ${health}`);
      const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
      assert.ok(token.length >= 16);
      assert.ok(!service.stdout().includes(token), 'the generated token is not printed');
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      const walk = (path: string): string[] => (statSync(path).isDirectory() ? [path, ...readdirSync(path).flatMap((name) => walk(join(path, name)))] : [path]);
      const open = walk(dir).filter((path) => (statSync(path).mode & 0o077) !== 0);
      assert.deepEqual(open, [], 'nothing readable by group or others');
    } finally {
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      assert.equal(exit.code, 0);
    }
  });
});
