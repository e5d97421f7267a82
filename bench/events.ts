/**
 * `npm run bench:events`: event-store throughput on Postgres and PGlite, next to raw COPY and
 * raw multi-row INSERT of the same rows in the same run; the gap-safe read and a tree rebuild
 * from zero, each next to a raw streamed read of the same rows (`SELECT … ORDER BY` through
 * `pg` with a cursor, no decoding; on PGlite one plain query); per-step append latency
 * (3 events, one transaction). Prints a table and writes bench/results/events.json.
 *   BENCH_EVENTS_PG (default 1000000), BENCH_EVENTS_PGLITE (default 200000) set the sizes (the
 *   rebuild replays an experiment of as many events: NAS-Bench-Macro tree-building steps).
 */
import { once } from 'node:events';
import pg from 'pg';
import Cursor from 'pg-cursor';
import copyStreams from 'pg-copy-streams';
import type { Database } from '../src/database/database.js';
import { PgliteDatabase } from '../src/database/pglite-database.js';
import { PostgresDatabase } from '../src/database/postgres-database.js';
import { EventStore, type NewEvent, SELECT_COLUMNS } from '../src/events/event-store.js';
import { START } from '../src/events/stored-event.js';
import { ExperimentProjections } from '../src/experiments/experiment-projections.js';
import { createRuntime } from '../src/runtime.js';
import { testBackends } from '../test/support/databases.js';
import { stepEvents } from './step-events.js';
import { percentile, printTable, timed, writeJson } from './support.js';
import { buildSyntheticTree } from '../test/support/synthetic-tree.js';

const BATCH = 1000;
const STEPS_FOR_LATENCY = 2000;

function rewardEvent(i: number): NewEvent {
  return {
    type: 'RewardRecorded',
    data: {
      step: i,
      architecture: [i % 3, (i >> 1) % 3, (i >> 2) % 3, (i >> 3) % 3, (i >> 4) % 3, (i >> 5) % 3, (i >> 6) % 3, (i >> 7) % 3],
      loss: 2.302585092994046 - (i % 1000) * 1e-4,
      movingAverageLoss: 2.1034981234 + (i % 777) * 1e-5,
      reward: 0.9134527189 + (i % 313) * 1e-6,
    },
    idempotencyKey: `step:${i}:reward`,
  };
}

const metadataFor = (streamId: string) => JSON.stringify({ experimentId: streamId, host: 'bench', codeVersion: '0.1.0' });

/** The same rows the store writes, as raw column values. */
function rawRows(streamId: string, from: number, count: number) {
  return Array.from({ length: count }, (_, k) => {
    const e = rewardEvent(from + k);
    return [streamId, from + k + 1, e.type, 1, JSON.stringify(e.data), metadataFor(streamId), e.idempotencyKey!];
  });
}

const csvField = (v: unknown) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const COLUMNS = 'stream_id, stream_version, type, schema_version, data, metadata, idempotency_key';

async function rawCopy(db: Database, total: number): Promise<number> {
  await db.query(`CREATE TABLE bench_copy (LIKE events INCLUDING ALL)`);
  const { seconds } = await timed(async () => {
    for (let from = 0; from < total; from += 50_000) {
      const csv = rawRows('copy', from, Math.min(50_000, total - from)).map((r) => r.map(csvField).join(',')).join('\n') + '\n';
      if (db instanceof PgliteDatabase) {
        await db.copyFrom(`COPY bench_copy (${COLUMNS}) FROM '/dev/blob' WITH (FORMAT csv)`, csv);
      } else {
        const client = new pg.Client({ connectionString: (db as PostgresDatabase).url });
        await client.connect();
        const stream = client.query(copyStreams.from(`COPY bench_copy (${COLUMNS}) FROM STDIN WITH (FORMAT csv)`));
        stream.end(csv);
        await once(stream, 'finish');
        await client.end();
      }
    }
  });
  return total / seconds;
}

async function rawInsert(db: Database, total: number): Promise<number> {
  await db.query(`CREATE TABLE bench_insert (LIKE events INCLUDING ALL)`);
  const { seconds } = await timed(async () => {
    for (let from = 0; from < total; from += BATCH) {
      const rows = rawRows('insert', from, Math.min(BATCH, total - from));
      const values = rows.map((_, r) => `(${Array.from({ length: 7 }, (_, c) => `$${r * 7 + c + 1}`).join(',')})`).join(',');
      await db.query(`INSERT INTO bench_insert (${COLUMNS}) VALUES ${values}`, rows.flat());
    }
  });
  return total / seconds;
}

async function storeAppend(store: EventStore, total: number): Promise<number> {
  const { seconds } = await timed(async () => {
    for (let from = 0; from < total; from += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, total - from) }, (_, k) => rewardEvent(from + k));
      await store.append('bench', 'any', events);
    }
  });
  return total / seconds;
}

async function storeRead(store: EventStore, total: number): Promise<number> {
  const { seconds, result } = await timed(async () => {
    let checkpoint = START;
    let read = 0;
    // An empty page means "nothing visible yet" (e.g. autovacuum's ANALYZE holding back
    // xmin), not "done": keep reading until every appended event arrived.
    while (read < total) {
      const page = await store.readAll(checkpoint, 5000, { streamId: 'bench' });
      if (page.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      read += page.length;
      const last = page[page.length - 1]!;
      checkpoint = { transactionId: last.transactionId, position: last.position };
    }
    return read;
  });
  if (result !== total) throw new Error(`read ${result} events, expected ${total}`);
  return total / seconds;
}

const RAW_BATCH = 5000;

/**
 * The anchor for every read: one stream's rows in the gap-safe order as the driver hands them
 * over (its own type parsing, nothing of ours). Postgres: a `pg` cursor read RAW_BATCH rows at
 * a time; PGlite (no cursor in its API): one query.
 */
async function rawStreamedRead(db: Database, streamId: string): Promise<number> {
  const sql = `SELECT ${SELECT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY events.transaction_id, events.position`;
  const { seconds, result } = await timed(async () => {
    if (db instanceof PgliteDatabase) return (await db.query(sql, [streamId])).length;
    const client = new pg.Client({ connectionString: (db as PostgresDatabase).url });
    await client.connect();
    try {
      const cursor = client.query(new Cursor(sql, [streamId]));
      let read = 0;
      for (let rows = await cursor.read(RAW_BATCH); rows.length > 0; rows = await cursor.read(RAW_BATCH)) read += rows.length;
      await cursor.close();
      return read;
    } finally {
      await client.end();
    }
  });
  return result / seconds;
}

/** Best of `runs` (the machine is shared: the fastest run is the one least disturbed). */
async function bestOf(runs: number, measure: () => Promise<number>): Promise<number> {
  let best = 0;
  for (let i = 0; i < runs; i++) best = Math.max(best, await measure());
  return best;
}

/** A NAS-Bench-Macro experiment of about `total` events; rebuilds its projections from event 0 (no snapshot). */
async function rebuild(db: Database, total: number): Promise<{ events: number; rawPerSec: number; rebuildPerSec: number }> {
  const runtime = createRuntime(db);
  const { id } = await buildSyntheticTree(runtime, Math.ceil(total / 3), 'nas-bench-macro');
  const events = await runtime.store.streamVersion(id);
  await db.query('ANALYZE events');
  const rawPerSec = await bestOf(2, () => rawStreamedRead(db, id));
  const rebuildPerSec = await bestOf(2, async () => {
    const { seconds, result } = await timed(async () => (await new ExperimentProjections(runtime.store).current(id)).version);
    if (result !== events) throw new Error(`rebuilt ${result} events, expected ${events}`);
    return events / seconds;
  });
  return { events, rawPerSec, rebuildPerSec };
}

async function stepLatency(store: EventStore): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  let version = 0;
  for (let step = 0; step < STEPS_FOR_LATENCY; step++) {
    const start = process.hrtime.bigint();
    version = (await store.append('latency', version, stepEvents(step))).version;
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const sizes = { postgres: Number(process.env.BENCH_EVENTS_PG ?? 1_000_000), pglite: Number(process.env.BENCH_EVENTS_PGLITE ?? 200_000) };
const payloadBytes = Buffer.byteLength(JSON.stringify(rewardEvent(123456).data)) + Buffer.byteLength(metadataFor('bench'));
const results = [];
for (const backend of testBackends) {
  const total = sizes[backend.name];
  const db = await backend.open();
  const store = new EventStore(db, { host: 'bench', codeVersion: '0.1.0' });
  console.error(`${backend.name}: ${total} events...`);
  const copy = await rawCopy(db, total);
  console.error(`  raw COPY ${Math.round(copy)} ev/s`);
  const insert = await rawInsert(db, total);
  console.error(`  raw INSERT ${Math.round(insert)} ev/s`);
  const append = await storeAppend(store, total);
  console.error(`  append ${Math.round(append)} ev/s`);
  await db.query('ANALYZE events');
  const rawRead = await bestOf(2, () => rawStreamedRead(db, 'bench'));
  console.error(`  raw streamed read ${Math.round(rawRead)} ev/s`);
  const read = await bestOf(2, () => storeRead(store, total));
  console.error(`  gap-safe read ${Math.round(read)} ev/s (${(read / rawRead).toFixed(2)} of raw)`);
  const latency = await stepLatency(store);
  const rebuilt = await rebuild(db, total);
  console.error(`  rebuild of ${rebuilt.events} events ${Math.round(rebuilt.rebuildPerSec)} ev/s (${(rebuilt.rebuildPerSec / rebuilt.rawPerSec).toFixed(2)} of raw ${Math.round(rebuilt.rawPerSec)})`);
  await db.close();
  results.push({
    backend: backend.name,
    events: total,
    rawCopyPerSec: copy,
    rawInsertPerSec: insert,
    appendPerSec: append,
    appendVsCopy: append / copy,
    rawStreamedReadPerSec: rawRead,
    readPerSec: read,
    readVsRaw: read / rawRead,
    rebuildEvents: rebuilt.events,
    rebuildRawReadPerSec: rebuilt.rawPerSec,
    rebuildPerSec: rebuilt.rebuildPerSec,
    rebuildVsRaw: rebuilt.rebuildPerSec / rebuilt.rawPerSec,
    stepAppendP50Ms: latency.p50,
    stepAppendP99Ms: latency.p99,
  });
  // after each backend: a long run that is stopped still leaves what it measured
  writeJson('bench/results/events.json', { date: new Date().toISOString(), payloadBytes, batch: BATCH, results });
}

console.log(`\nEvent store benchmark (${payloadBytes}-byte data+metadata per event, batches of ${BATCH}; reads best of 2; rebuild = NAS-Bench-Macro experiment of as many events, its own raw read as anchor; per-step = 3 events in one transaction)\n`);
printTable(
  results.map((r) => ({
    backend: r.backend,
    events: r.events,
    'raw COPY ev/s': Math.round(r.rawCopyPerSec),
    'raw INSERT ev/s': Math.round(r.rawInsertPerSec),
    'append ev/s': Math.round(r.appendPerSec),
    'append/COPY': Number(r.appendVsCopy.toFixed(2)),
    'raw read ev/s': Math.round(r.rawStreamedReadPerSec),
    'read ev/s': Math.round(r.readPerSec),
    'read/raw': Number(r.readVsRaw.toFixed(2)),
    'rebuild ev/s': Math.round(r.rebuildPerSec),
    'rebuild/raw': Number(r.rebuildVsRaw.toFixed(2)),
    'step p50 ms': Number(r.stepAppendP50Ms.toFixed(2)),
    'step p99 ms': Number(r.stepAppendP99Ms.toFixed(2)),
  })),
);
