/**
 * `npm run bench:resume`: how long a resume takes before training can go on, on an experiment
 * of BENCH_RESUME_EVENTS events (default 1,000,000) on Postgres (a scratch database): open the
 * database, load the projections (the newest snapshot + the events after it), acquire the lease
 * and ask for the next step. The history is synthetic tree-building steps
 * (test/support/synthetic-tree.ts, NAS-Bench-Macro space) written in big batches; the snapshot is the
 * state BENCH_RESUME_TAIL events (default 19,998, just under the 20,000-event snapshot interval:
 * the longest tail a resume meets) before the head. Anchor in the same run: a raw read of the
 * tail's rows (`SELECT data`, no decoding). Prints a table, writes bench/results/resume.json.
 */
import { PostgresDatabase } from '../src/database/postgres-database.js';
import { createRuntime } from '../src/runtime.js';
import { serialize } from '../src/tree/snapshot.js';
import { testBackends } from '../test/support/databases.js';
import { buildSyntheticTree } from '../test/support/synthetic-tree.js';
import { printTable, timed, writeJson } from './support.js';

const events = Number(process.env.BENCH_RESUME_EVENTS ?? 1_000_000);
const tail = Number(process.env.BENCH_RESUME_TAIL ?? 19_998);
const db = (await testBackends.find((b) => b.name === 'postgres')!.open()) as PostgresDatabase;
try {
  const runtime = createRuntime(db);
  const built = await buildSyntheticTree(runtime, Math.floor(events / 3), 'nas-bench-macro');
  const total = await runtime.store.streamVersion(built.id);
  console.log(`history: ${total} events written in ${built.seconds.toFixed(1)} s`);
  await db.query('ANALYZE events');
  const [cut] = await runtime.store.readStream(built.id, { fromVersion: total - tail, toVersion: total - tail });
  const rebuild = await timed(() => runtime.projections.at(built.id, cut!.position));
  const view = rebuild.result;
  await runtime.snapshots.save({ streamId: built.id, version: view.version, position: view.position, tree: serialize(view.tree), status: view.status });

  // The resume, as a new process does it: open, snapshot + tail, lease, next step.
  const fresh = new PostgresDatabase(db.url);
  try {
    const resume = await timed(async () => {
      const rt = createRuntime(fresh);
      const projection = await timed(() => rt.projections.current(built.id));
      const lease = await rt.service.acquireLease(built.id, 'bench-resume');
      await rt.service.ask(built.id, lease.leaseId);
      return projection;
    });
    const raw = await timed(() => fresh.query('SELECT data FROM events WHERE stream_id = $1 AND stream_version > $2', [built.id, view.version]));
    const row = {
      events: total,
      snapshotVersion: view.version,
      tail: total - view.version,
      rebuildToSnapshotSeconds: rebuild.seconds,
      resumeSeconds: resume.seconds,
      projectionSeconds: resume.result.seconds,
      rawTailReadSeconds: raw.seconds,
    };
    console.log(`\nResume of a ${total.toLocaleString('en')}-event experiment on Postgres (NAS-Bench-Macro space)\n`);
    printTable([
      {
        events: row.events,
        'snapshot at': row.snapshotVersion,
        tail: row.tail,
        'resume s (open, snapshot + tail, lease, ask)': row.resumeSeconds,
        'of which projection s': row.projectionSeconds,
        'raw read of the tail s': row.rawTailReadSeconds,
        'rebuild from 0 to the snapshot s': row.rebuildToSnapshotSeconds,
      },
    ]);
    writeJson('bench/results/resume.json', { date: new Date().toISOString(), rows: [row] });
  } finally {
    await fresh.close();
  }
} finally {
  await db.close();
}
