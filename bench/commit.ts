/**
 * `npm run bench:commit`: the per-step commit (3 events: sample, reward, visit counts; one
 * statement, one transaction) next to its floor, on Postgres and PGlite, in one run. Variants:
 *   - `SELECT 1`: a bare round trip (raw `pg` client / PGlite query);
 *   - raw INSERT: the same 3 rows in one multi-row INSERT (one transaction) into a plain table
 *     with no index, synchronous_commit on: the floor a durable commit of these rows cannot beat;
 *     also with synchronous_commit off (what the WAL flush costs);
 *   - the store's append: unnamed statement (before), named prepared statement (now, the
 *     default), prepared without the ledger's GIN index, prepared with synchronous_commit off.
 * Variants run interleaved in blocks of BLOCK steps, so the machine's load hits all of them
 * alike. Each is reported as p50/p99 and as a ratio to the raw INSERT's p50 of the same run.
 * Writes bench/results/commit.json.
 *   BENCH_COMMIT_STEPS (default 2000) steps per variant; BENCH_COMMIT_BACKENDS (default
 *   "postgres,pglite").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Database, Row } from '../src/database/database.js';
import { migrate } from '../src/database/data-source.js';
import { PgliteDatabase } from '../src/database/pglite-database.js';
import { PostgresDatabase } from '../src/database/postgres-database.js';
import { EventStore, prepareEvents } from '../src/events/event-store.js';
import { scratchDatabase } from '../test/support/databases.js';
import { stepEvents } from './step-events.js';
import { percentile, printTable, writeJson } from './support.js';

const STEPS = Number(process.env.BENCH_COMMIT_STEPS ?? 2000);
const BLOCK = 50;
const backends = (process.env.BENCH_COMMIT_BACKENDS ?? 'postgres,pglite').split(',');

interface Variant {
  readonly name: string;
  /** commits step `step`'s rows */
  readonly commit: (step: number) => Promise<unknown>;
}

const PLAIN_TABLE = `CREATE TABLE bench_plain (stream_id text, stream_version integer, type text, schema_version smallint, data jsonb, metadata jsonb, idempotency_key text)`;
const PLAIN_INSERT = `INSERT INTO bench_plain VALUES ${[0, 1, 2].map((r) => `(${Array.from({ length: 7 }, (_, c) => `$${r * 7 + c + 1}`).join(',')})`).join(',')}`;

/** The step's 3 rows as the store would write them (same JSON text). */
function plainRows(stream: string, step: number): unknown[] {
  return prepareEvents(stream, stepEvents(step), { host: 'bench', codeVersion: '0.1.0' }).flatMap((e, i) => [stream, step * 3 + i + 1, e.type, e.schemaVersion, e.data, e.metadata, e.idempotencyKey]);
}

/** The database as the store saw it before statements had names: every statement unnamed. */
function unnamed(db: Database): Database {
  return {
    kind: db.kind,
    location: db.location,
    query: <R extends Row>(sql: string, params?: readonly unknown[]) => db.query<R>(sql, params),
    transaction: (work) => db.transaction((tx) => work({ query: <R extends Row>(sql: string, params?: readonly unknown[]) => tx.query<R>(sql, params) })),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: () => db.close(),
  };
}

/** A store variant appending one step per call to its own stream. */
function appendVariant(name: string, db: Database): Variant {
  const store = new EventStore(db, { host: 'bench', codeVersion: '0.1.0' });
  const stream = `bench-${name.replace(/\W+/g, '-')}`;
  let version = 0;
  return {
    name,
    commit: async (step) => {
      version = (await store.append(stream, version, stepEvents(step))).version;
    },
  };
}

const dropGin = (db: Database) => db.query('DROP INDEX events_visit_nodes');

/** What a backend provides to the variants: raw executors (with and without synchronous commit) and three migrated databases. */
interface Executors {
  readonly raw: { query(sql: string, params?: unknown[]): Promise<unknown> };
  readonly rawAsync: { query(sql: string, params?: unknown[]): Promise<unknown> };
  readonly db: Database;
  readonly dbNoGin: Database;
  readonly dbAsync: Database;
}

/** The raw INSERT's index in the list: the floor every ratio divides by. */
const FLOOR = 1;

/** The same variants, in the same order, on both backends. */
function variants(e: Executors): Variant[] {
  return [
    { name: 'SELECT 1', commit: () => e.raw.query('SELECT 1') },
    { name: 'raw INSERT, no index', commit: (step) => e.raw.query(PLAIN_INSERT, plainRows('raw', step)) },
    { name: 'raw INSERT, no index, synchronous_commit off', commit: (step) => e.rawAsync.query(PLAIN_INSERT, plainRows('raw-async', step)) },
    appendVariant('append, unnamed (before)', unnamed(e.db)),
    appendVariant('append, prepared (default)', e.db),
    appendVariant('append, prepared, no GIN index', e.dbNoGin),
    appendVariant('append, prepared, synchronous_commit off', e.dbAsync),
  ];
}

async function postgresVariants(cleanup: (() => Promise<unknown>)[]): Promise<Variant[]> {
  const main = await scratchDatabase('commit');
  const noGin = await scratchDatabase('commitnogin');
  cleanup.push(main.drop, noGin.drop);
  const db = new PostgresDatabase(main.url, 1);
  const dbNoGin = new PostgresDatabase(noGin.url, 1);
  // libpq's `options`: every connection of this pool commits asynchronously
  const asyncUrl = new URL(main.url);
  asyncUrl.searchParams.set('options', '-c synchronous_commit=off');
  const dbAsync = new PostgresDatabase(asyncUrl.toString(), 1);
  cleanup.unshift(() => db.close(), () => dbNoGin.close(), () => dbAsync.close());
  await migrate(db);
  await migrate(dbNoGin);
  await dropGin(dbNoGin);
  const raw = new pg.Client({ connectionString: main.url });
  const rawAsync = new pg.Client({ connectionString: asyncUrl.toString() });
  await raw.connect();
  await rawAsync.connect();
  cleanup.unshift(() => raw.end(), () => rawAsync.end());
  await raw.query(PLAIN_TABLE);
  return variants({ raw, rawAsync, db, dbNoGin, dbAsync });
}

async function pgliteVariants(cleanup: (() => Promise<unknown>)[]): Promise<Variant[]> {
  // On disk, as `npm start` runs it.
  const open = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mctnas-bench-commit-'));
    const db = await PgliteDatabase.open(dir);
    cleanup.unshift(() => db.close());
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    await migrate(db);
    return db;
  };
  const db = await open();
  const dbNoGin = await open();
  const dbAsync = await open();
  await dropGin(dbNoGin);
  await dbAsync.query('SET synchronous_commit = off');
  await db.query(PLAIN_TABLE);
  await dbAsync.query(PLAIN_TABLE);
  return variants({ raw: db, rawAsync: dbAsync, db, dbNoGin, dbAsync });
}

const results = [];
for (const backend of backends) {
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const measured = backend === 'postgres' ? await postgresVariants(cleanup) : await pgliteVariants(cleanup);
    const samples = measured.map(() => [] as number[]);
    console.error(`${backend}: ${measured.length} variants x ${STEPS} steps, interleaved in blocks of ${BLOCK}`);
    for (let from = 0; from < STEPS; from += BLOCK) {
      for (const [v, variant] of measured.entries()) {
        for (let step = from; step < Math.min(STEPS, from + BLOCK); step++) {
          const start = process.hrtime.bigint();
          await variant.commit(step);
          samples[v]!.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
      }
    }
    const floor = percentile(samples[FLOOR]!, 50);
    for (const [v, variant] of measured.entries()) {
      const p50 = percentile(samples[v]!, 50);
      results.push({ backend, variant: variant.name, steps: STEPS, p50Ms: p50, p99Ms: percentile(samples[v]!, 99), p50VsRawInsert: p50 / floor });
    }
  } finally {
    for (const step of cleanup) await step().catch((error) => console.error(`cleanup: ${(error as Error).message}`));
  }
}

console.log(`\nPer-step commit (3 events, one transaction), ${STEPS} steps per variant, interleaved; ratio = p50 / raw INSERT p50 of the same backend and run\n`);
printTable(results.map((r) => ({ backend: r.backend, variant: r.variant, 'p50 ms': Number(r.p50Ms.toFixed(3)), 'p99 ms': Number(r.p99Ms.toFixed(3)), 'p50 / raw INSERT': Number(r.p50VsRawInsert.toFixed(2)) })));
writeJson('bench/results/commit.json', { date: new Date().toISOString(), steps: STEPS, block: BLOCK, results });
