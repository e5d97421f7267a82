import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/database/database.js';
import { IdempotencyConflictError, VersionConflictError } from '../../src/events/errors.js';
import { EventStore, type NewEvent } from '../../src/events/event-store.js';
import type { StoredEvent } from '../../src/events/stored-event.js';
import type { StreamStore } from '../../src/events/stream-store.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { MemoryEventStore } from '../../src/events/memory-event-store.js';
import { createOracleExperiment, runOracleExperiment } from '../../src/tabular/oracle-experiment.js';
import { loadNasBenchMacro } from '../../src/tabular/table.js';
import { testBackends } from '../support/databases.js';
import { nasBenchMacroJson } from '../support/paths.js';

const paused = (reason: string, key?: string): NewEvent => ({ type: 'ExperimentPaused', data: { reason }, ...(key && { idempotencyKey: key }) });

/** Runs the same appends and reads on a store; returns every answer (results and error names). */
async function script(store: StreamStore): Promise<unknown[]> {
  const answers: unknown[] = [];
  const attempt = async (work: () => Promise<unknown>) => {
    try {
      const answer = await work();
      // an append's answer carries the events as written: compared as a reader sees them
      const events = (answer as { events?: StoredEvent[] }).events;
      answers.push(events ? { ...(answer as object), events: events.map(comparable) } : answer);
    } catch (error) {
      answers.push({ error: (error as Error).name, message: (error as Error).message });
    }
  };
  await attempt(() => store.append('a', 'no-stream', [paused('one', 'k1'), paused('two', 'k2')]));
  await attempt(() => store.append('b', 'any', [paused('other stream')]));
  await attempt(() => store.append('a', 'no-stream', [paused('three')]));
  await attempt(() => store.append('a', 2, [{ type: 'ExperimentResumed', data: { reason: 'three' }, idempotencyKey: 'k3', metadata: { workerId: 'w', step: 4 } }]));
  await attempt(() => store.append('a', 0, [paused('one', 'k1'), paused('two', 'k2')]));
  await attempt(() => store.append('a', 'any', [paused('changed', 'k1')]));
  await attempt(() => store.append('a', 'any', [paused('one', 'k1'), paused('four', 'k4')]));
  await attempt(() => store.append('a', 'any', [paused('twice', 'k5'), paused('twice', 'k5')]));
  await attempt(() => store.append('a', 'any', [{ type: 'ExperimentPaused', data: { reason: 7 } }]));
  await attempt(() => store.append('a', 'any', [{ type: 'NoSuchEvent', data: {} }]));
  await attempt(() => store.append('a', 5, [paused('stale')]));
  await attempt(() => store.append('a', 'any', [paused('five'), paused('six')]));
  const read = async (range?: Parameters<StreamStore['readStream']>[1]) => (await store.readStream('a', range)).map(comparable);
  await attempt(() => read());
  await attempt(() => read({ fromVersion: 2, limit: 2 }));
  await attempt(() => read({ toVersion: 2 }));
  await attempt(() => read({ types: ['ExperimentResumed'] }));
  await attempt(() => read({ afterPosition: 3, toPosition: 5 }));
  await attempt(async () => (await store.readStream('missing')).length);
  return answers;
}

/** What a reader can rely on: everything but the commit time and the transaction id. */
function comparable({ createdAt: _c, transactionId: _t, ...event }: StoredEvent) {
  return event;
}

/**
 * A stream's event sequence without what depends on other streams or on the wall clock: global
 * positions are dropped (stream versions stay), the lease's random id and expiry become placeholders.
 */
function normalized(events: readonly StoredEvent[]): unknown[] {
  const leaseIds = events.flatMap((e) => (e.type === 'WorkerLeaseAcquired' ? [e.data.leaseId] : []));
  return events.map((e) => {
    const { position: _p, ...event } = comparable(e);
    let text = JSON.stringify(event);
    leaseIds.forEach((id, i) => (text = text.replaceAll(id, `lease-${i}`)));
    return JSON.parse(text.replace(/"expiresAt":"[^"]*"/g, '"expiresAt":"T"'));
  });
}

for (const backend of testBackends) {
  describe(`in-memory event store against ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(() => db.close());

    it('given the same appends and reads, then it answers exactly like the SQL store: positions, versions, retries, conflicts and refusals', async () => {
      const sql = await script(new EventStore(db));
      const memory = await script(new MemoryEventStore());
      assert.deepEqual(memory, sql);
      // and the script does exercise each rule
      const errors = memory.flatMap((a) => ((a as { error?: string }).error ? [(a as { error: string }).error] : []));
      assert.deepEqual(errors, [
        VersionConflictError.name,
        IdempotencyConflictError.name,
        IdempotencyConflictError.name,
        IdempotencyConflictError.name,
        'InvalidEventError',
        'InvalidEventError',
        VersionConflictError.name,
      ]);
      assert.equal((memory[4] as { duplicate: boolean }).duplicate, true, 'a retry of stored events is answered, not refused');
    });

    it(
      'given the same seed, then a whole oracle experiment (training and three searches) writes the identical event sequence in memory and in the database',
      { skip: !existsSync(nasBenchMacroJson) && 'benchmark table not found' },
      async () => {
        const table = loadNasBenchMacro(nasBenchMacroJson);
        const run = async (store: StreamStore) => {
          const service = new ExperimentService(store, new ExperimentProjections(store));
          const id = await createOracleExperiment(service, table, { id: 'parity', seed: 5, schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 40, mctSteps: 60 } });
          // A lease long enough that no wall-clock heartbeat lands in the history.
          const outcome = await runOracleExperiment(service, table, id, [{ strategy: 'hierarchical', candidates: 4 }, { strategy: 'random', candidates: 3 }, { strategy: 'evolutionary', candidates: 3 }], { leaseTtlMs: 600_000 });
          return { outcome, events: await store.readStream(id) };
        };
        const memory = await run(new MemoryEventStore());
        const sql = await run(new EventStore(db));
        assert.ok(memory.events.length > 300);
        assert.deepEqual(normalized(memory.events), normalized(sql.events));
        assert.deepEqual(
          memory.outcome.searches.map((s) => s.best),
          sql.outcome.searches.map((s) => s.best),
        );
      },
    );
  });
}
