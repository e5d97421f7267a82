/**
 * One spec for every adapter of the ports (StreamStore, EventFeed, ExperimentIndex, AuditLedger,
 * ProjectionSnapshots): the SQL runtime on Postgres and on PGlite, and the in-memory runtime.
 * The same deterministic ask/tell run is driven through each, then every port is asked the same
 * questions; the answers must satisfy the spec on each adapter and agree across adapters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import type { Database } from '../../src/database/database.js';
import type { EventData } from '../../src/events/catalog.js';
import { VersionConflictError } from '../../src/events/errors.js';
import { START } from '../../src/events/stored-event.js';
import { activeLease, leaseFromEvents } from '../../src/experiments/experiment-status.js';
import { createMemoryRuntime, createRuntime, type Runtime } from '../../src/runtime.js';
import { childrenOf, nodeAt } from '../../src/tree/queries.js';
import { serialize } from '../../src/tree/snapshot.js';
import { initialTreeState } from '../../src/tree/state.js';
import { trainedOracleExperiment } from '../dashboard/support.js';
import { testBackends } from '../support/databases.js';

const request = {
  name: 'contract',
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 5, warmupSteps: 5, treeBuildingSteps: 10, mctSteps: 15 },
  dataset: { kind: 'synthetic' },
  seed: 7,
};
const loss = (architecture: readonly number[], step: number) => 2.3 - architecture.reduce((a, b) => a + b, 0) * 0.05 + ((step * 7919) % 11) * 0.01;

interface Adapter {
  readonly name: string;
  open(): Promise<{ runtime: Runtime; close(): Promise<void> }>;
}

const adapters: Adapter[] = [
  ...testBackends.map(
    (backend): Adapter => ({
      name: backend.name,
      async open() {
        const db: Database = await backend.open();
        return { runtime: createRuntime(db), close: () => db.close() };
      },
    }),
  ),
  { name: 'memory', open: async () => ({ runtime: createMemoryRuntime(), close: async () => undefined }) },
];

/** What each adapter answered, normalized (no timestamps, ids or transaction ids) for the cross-adapter comparison. */
const answers = new Map<string, unknown>();

for (const adapter of adapters) {
  describe(`ports on ${adapter.name}`, () => {
    let runtime: Runtime;
    let close: () => Promise<void>;
    let id: string;
    let other: string;
    before(async () => {
      ({ runtime, close } = await adapter.open());
      const { service } = runtime;
      ({ id } = await service.create(request));
      ({ id: other } = await service.create({ ...request, name: 'second' }));
      const lease = await service.acquireLease(id, 'w1', 60_000);
      for (;;) {
        const sample = await service.ask(id, lease.leaseId);
        if (!sample) break;
        await service.tell(id, lease.leaseId, sample.step, loss(sample.architecture, sample.step));
        if (sample.step === 12) {
          await service.append(id, [
            { type: 'CheckpointSaved', data: { step: 12, epoch: 2, location: '/ckpt/12.bin', sha256: 'b'.repeat(64), size: 10, streamPosition: sample.position } },
          ]);
        }
      }
      await service.acquireLease(other, 'w2', 60_000);
    });
    after(() => close());

    it('StreamStore: appends with optimistic concurrency and reads a stream by version, position, type and key', async () => {
      const { store } = runtime;
      const all = await store.readStream(id);
      assert.equal(await store.streamVersion(id), all.length);
      assert.equal(await store.streamVersion('no-such-stream'), 0);
      assert.deepEqual(
        all.map((e) => e.streamVersion),
        all.map((_, i) => i + 1),
      );
      const middle = all[Math.floor(all.length / 2)]!;
      assert.deepEqual(
        (await store.readStream(id, { fromVersion: 3, toPosition: middle.position, limit: 5 })).map((e) => e.streamVersion),
        [3, 4, 5, 6, 7].filter((v) => v <= middle.streamVersion),
      );
      const rewards = await store.readStream(id, { types: ['RewardRecorded'] });
      assert.equal(rewards.length, 30);
      const keyed = all.find((e) => e.idempotencyKey !== null)!;
      assert.deepEqual(await store.readByKey(id, keyed.idempotencyKey!), keyed);
      assert.equal(await store.readByKey(id, 'no-such-key'), null);
      await assert.rejects(store.append(id, 1, [{ type: 'ExperimentPaused', data: { reason: 'x' } }]), VersionConflictError);
    });

    it('EventFeed: the gap-safe global order, its head, counts after a checkpoint, append notifications and a live subscription', async () => {
      const { store } = runtime;
      const everything = await store.readAll(START, 100_000);
      const head = everything.at(-1)!;
      assert.equal(await store.headPosition(), head.position);
      assert.deepEqual(await store.headCheckpoint(), { transactionId: head.transactionId, position: head.position });
      assert.equal(await store.hasPosition(head.position), true);
      assert.equal(await store.hasPosition(head.position + 1), false);
      assert.equal(await store.countAfter(START), everything.length);
      assert.equal(await store.countAfter(await store.headCheckpoint()), 0);
      const onlyOther = await store.readAll(START, 100, { streamId: other, types: ['WorkerLeaseAcquired'] });
      assert.deepEqual(
        onlyOther.map((e) => [e.streamId, e.type]),
        [[other, 'WorkerLeaseAcquired']],
      );
      let notified = 0;
      const unlisten = await store.onAppend(() => notified++);
      const live = firstValueFrom(store.subscribe(await store.headCheckpoint(), { pollIntervalMs: 50 }).pipe(take(1), toArray()));
      const appended = await runtime.service.pause(other, 'contract');
      const [delivered] = await live;
      assert.equal(delivered!.position, appended.position);
      for (let i = 0; i < 50 && notified === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(notified > 0, 'an append notifies');
      await unlisten();
      assert.deepEqual(
        (await store.readAll(START, 100_000)).slice(0, everything.length).map((e) => e.position),
        everything.map((e) => e.position),
      );
    });

    it('ExperimentIndex: every experiment oldest first; its lease events fold to the status projection lease', async () => {
      const list = await runtime.index.list();
      assert.deepEqual(
        list.map((e) => [e.id, e.name]),
        [
          [id, 'contract'],
          [other, 'second'],
        ],
      );
      assert.ok(list[0]!.position < list[1]!.position && list[0]!.createdAt instanceof Date);
      assert.deepEqual(await runtime.index.list({ limit: 1 }), [list[0]], 'a page: the first `limit`');
      assert.deepEqual(await runtime.index.list({ after: list[0]!.position, limit: 5 }), [list[1]], 'the next page starts after the cursor');
      assert.deepEqual(await runtime.index.list({ after: list[1]!.position }), []);
      const now = new Date();
      const byId = new Map((await runtime.index.leaseEvents()).map((l) => [l.experimentId, l.events]));
      for (const experiment of [id, other]) {
        const status = (await runtime.projections.current(experiment)).status;
        assert.deepEqual(leaseFromEvents(byId.get(experiment)!), status.lease);
        assert.ok(activeLease(status, now));
      }
      const lease = (await runtime.projections.current(id)).status.lease!;
      await runtime.service.releaseLease(id, lease.leaseId);
      const released = new Map((await runtime.index.leaseEvents()).map((l) => [l.experimentId, l.events]));
      assert.equal(leaseFromEvents(released.get(id)!), null);
      await runtime.service.acquireLease(id, 'w1', 60_000);
    });

    it('AuditLedger: node ledgers total to the node (n, S) at any position, page by version; G history and event pages filter and page', async () => {
      const { audit, store } = runtime;
      const view = await runtime.projections.current(id);
      const all = await store.readStream(id);
      // The most visited node below the root: it has a ledger of several entries.
      const visits = new Map<string, number>();
      for (const e of await store.readStream(id, { types: ['VisitCountsUpdated'] })) {
        for (const u of (e.data as EventData<'VisitCountsUpdated'>).nodes) if (u.path.length > 0) visits.set(JSON.stringify(u.path), (visits.get(JSON.stringify(u.path)) ?? 0) + 1);
      }
      const path = JSON.parse([...visits.entries()].sort((a, b) => b[1] - a[1])[0]![0]) as number[];
      const node = nodeAt(view.tree, path);
      const full = await audit.ledger(id, path, view.position, 0, 1000);
      assert.equal(full.totals.n, node.n);
      assert.equal(full.totals.s, node.s);
      assert.equal(full.totals.entries, full.entries.length);
      assert.equal(full.next, null);
      assert.ok(Math.abs(full.entries.reduce((a, e) => a + e.ds, 0) - node.s) < 1e-9);
      const first = await audit.ledger(id, path, view.position, 0, 2);
      assert.equal(first.next, first.entries[1]!.streamVersion);
      const rest = await audit.ledger(id, path, view.position, first.next!, 1000);
      assert.deepEqual([...first.entries, ...rest.entries], full.entries);
      for (const e of full.entries) {
        assert.equal(e.source, 'training');
        assert.ok(e.loss !== null && e.reward !== null && e.rewardPosition! < e.position);
      }
      assert.ok(full.entries.length >= 3, 'a ledger of several entries');
      for (const e of full.entries) assert.equal(e.checkpoint?.step ?? null, e.step > 12 ? 12 : null, 'steps after the checkpoint carry it');
      const earlier = full.entries[1]!.position;
      const asOf = await audit.ledger(id, path, earlier, 0, 1000);
      assert.equal(asOf.entries.length, 2);
      assert.equal(asOf.totals.n, full.entries[1]!.n);

      const g = await audit.gHistory(id, view.position, {}, 0, 1000);
      assert.deepEqual(
        g.entries.map((e) => e.streamVersion),
        all.filter((e) => e.type === 'VisitCountsUpdated').map((e) => e.streamVersion),
      );
      const layer1 = await audit.gHistory(id, view.position, { layer: 1 }, 0, 1000);
      assert.ok(layer1.entries.length > 0 && layer1.entries.every((e) => e.values.length > 0 && e.values.every((v) => v.layer === 1)));
      const paged = await audit.gHistory(id, view.position, {}, 0, 3);
      assert.equal(paged.next, paged.entries[2]!.streamVersion);

      const page = await audit.eventsPage(id, {}, 0, 10);
      assert.deepEqual([page.version, page.position], [all.at(-1)!.streamVersion, all.at(-1)!.position]);
      assert.deepEqual(
        page.events.map((e) => e.streamVersion),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      assert.equal(page.next, 10);
      const rewards = await audit.eventsPage(id, { types: ['RewardRecorded'], fromStep: 3, toStep: 5 }, 0, 100);
      assert.deepEqual(
        rewards.events.map((e) => (e.data as { step: number }).step),
        [3, 4, 5],
      );
      assert.deepEqual(await audit.eventsPage('no-such-stream', {}, 0, 10), { version: 0, position: 0, events: [], next: null });

      answers.set(adapter.name, {
        ledger: full.entries.map(({ recordedAt: _r, ds, ...rest }) => ({ ...rest, ds: Number(ds.toPrecision(12)) })),
        totals: full.totals,
        g: g.entries.map((e) => ({ ...e, values: e.values.map((v) => ({ layer: v.layer, op: v.op, value: v.value })) })),
        rewards: rewards.events.map((e) => [e.position, e.streamVersion, e.type, e.data]),
      });
    });

    it('AuditLedger: given two searches that each restart from the trained tree, then every ledger totals to its node, during the first search and after the second', async () => {
      const searched = await trainedOracleExperiment(runtime, 'searched twice');
      const events = await runtime.store.readStream(searched);
      const searchEnds = events.filter((e) => e.type === 'SearchCompleted').map((e) => e.position);
      assert.equal(searchEnds.length, 2);
      for (const position of [searchEnds[0]!, events.at(-1)!.position]) {
        const view = await runtime.projections.at(searched, position);
        const paths: number[][] = [[], ...childrenOf(view.tree, []).children.filter((child) => child.exists).map((child) => [child.op])];
        for (const path of paths) {
          const node = nodeAt(view.tree, path);
          const ledger = await runtime.audit.ledger(searched, path, position, 0, 10_000);
          assert.equal(ledger.totals.n, node.n, `n of node [${path}] at position ${position}`);
          assert.ok(Math.abs(ledger.totals.s - node.s) <= 1e-9 * Math.max(1, Math.abs(node.s)), `S of node [${path}] at position ${position}`);
        }
      }
      // the first search's backups moved the root; the second search started over from training's tree
      assert.notEqual(nodeAt((await runtime.projections.at(searched, searchEnds[0]!)).tree, []).n, nodeAt((await runtime.projections.current(searched)).tree, []).n);
    });

    it('ProjectionSnapshots: the newest at or before a position; a second save at a version is ignored', async () => {
      const { snapshots } = runtime;
      const tree = serialize(initialTreeState());
      assert.equal(await snapshots.load('snap', 1_000_000), null);
      await snapshots.save({ streamId: 'snap', version: 2, position: 10, tree, status: { a: 1 } });
      await snapshots.save({ streamId: 'snap', version: 5, position: 20, tree, status: { a: 2 } });
      await snapshots.save({ streamId: 'snap', version: 5, position: 20, tree, status: { a: 3 } });
      assert.equal(await snapshots.load('snap', 9), null);
      const at15 = await snapshots.load('snap', 15);
      assert.deepEqual([at15!.version, at15!.position, at15!.status], [2, 10, { a: 1 }]);
      assert.deepEqual(Buffer.from(at15!.tree), Buffer.from(tree));
      const newest = await snapshots.load('snap', 1_000_000);
      assert.deepEqual([newest!.version, newest!.status], [5, { a: 2 }]);
    });
  });
}

describe('ports across adapters', () => {
  it('answer the same questions the same way on Postgres, PGlite and in memory', () => {
    const [first, ...rest] = [...answers.entries()];
    assert.ok(first && rest.length === adapters.length - 1, 'every adapter answered');
    for (const [name, answer] of rest) assert.deepEqual(answer, first[1], `${name} vs ${first[0]}`);
  });
});
