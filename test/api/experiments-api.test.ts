import { isDeepStrictEqual } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import type { StoredEvent } from '../../src/events/stored-event.js';
import { EventStore } from '../../src/events/event-store.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, countEvents, flatten, rebuilt, smallRun, startApi, type SubtreeJson, syntheticLoss } from './support.js';

const CHECKPOINT_STEP = 150;

// The run costs ~600 sequential commands; on PGlite (one session, in-process) that doubles the
// suite's time, so the end-to-end run is on Postgres. The other API suites cover both backends.
for (const backend of testBackends.filter((b) => b.name === 'postgres')) {
  describe(`HTTP API on ${backend.name}: a 300-step ask/tell run`, () => {
    let api: ApiHarness;
    let id: string;
    let events: StoredEvent[];
    const retried: { ask: boolean[]; tell: boolean[] } = { ask: [], tell: [] };
    /** odd steps tell with `next: true`: whether the next ask answered exactly the sample the tell returned */
    const toldNext: boolean[] = [];

    before(async () => {
      api = await startApi(backend);
      const created = await api.http.post('/experiments').set(auth).send(smallRun).expect(201);
      id = created.body.id;
      assert.equal(created.headers.location, `/experiments/${id}`);
      // A long lease: the run takes over a minute on a loaded machine, and it never heartbeats.
      const lease = await api.http.post(`/experiments/${id}/lease`).set(auth).send({ workerId: 'trainer-1', ttlMs: 600_000 }).expect(201);
      const leaseId = lease.body.leaseId as string;
      let expectedNext: unknown = null;
      for (;;) {
        // search: false: this run stops at the end of training (remote-search.test.ts drives the search).
        const asked = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId, search: false }).expect(200);
        if (expectedNext !== null) toldNext.push(isDeepStrictEqual(asked.body, expectedNext));
        if (asked.body.done) break;
        const { step, architecture } = asked.body as { step: number; architecture: number[] };
        const loss = syntheticLoss(architecture, step);
        if (step % 50 === 7) {
          // A trainer that lost the answer retries: the same step comes back, nothing new is written.
          const again = await api.http.post(`/experiments/${id}/ask`).set(auth).send({ leaseId }).expect(200);
          retried.ask.push(again.body.step === step && again.body.position === asked.body.position);
        }
        const told = await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step, loss, ...(step % 2 === 1 && { next: true }) }).expect(200);
        assert.equal(told.body.duplicate, false);
        expectedNext = step % 2 === 1 ? (told.body.next ?? { experimentId: id, done: true }) : null;
        if (step % 50 === 7) {
          const again = await api.http.post(`/experiments/${id}/tell`).set(auth).send({ leaseId, step, loss }).expect(200);
          retried.tell.push(again.body.duplicate === true && again.body.reward === told.body.reward && again.body.position === told.body.position);
        }
        if (step === CHECKPOINT_STEP) {
          await api.app.get(ExperimentService).append(id, [
            { type: 'CheckpointSaved', data: { step, epoch: 15, location: `/ckpt/${step}.bin`, sha256: 'a'.repeat(64), size: 1024, streamPosition: told.body.position } },
          ]);
        }
      }
      events = await api.app.get(EventStore).readStream(id);
    });
    after(() => api.close());

    it('given retried asks and tells during the run, then every step is recorded exactly once', () => {
      assert.ok(retried.ask.length >= 5 && retried.ask.every(Boolean), 'a repeated ask returns the pending sample');
      assert.ok(retried.tell.length >= 5 && retried.tell.every(Boolean), 'a repeated tell returns the recorded reward');
      assert.ok(toldNext.length === 150 && toldNext.every(Boolean), 'a tell with next: true answered the sample ask then returned');
      const rewards = events.filter((e) => e.type === 'RewardRecorded').map((e) => (e.data as { step: number }).step);
      assert.equal(rewards.length, 300);
      assert.equal(new Set(rewards).size, 300);
    });

    it('given the run, when the whole tree is read, then it equals a rebuild from the events, at the position it states', async () => {
      const response = await api.http.get(`/experiments/${id}/tree`).query({ depth: 8, top: 5 }).expect(200);
      const expected = rebuilt(events);
      assert.equal(response.body.position, events.at(-1)!.position);
      assert.equal(response.headers['x-stream-position'], String(response.body.position));
      assert.equal(response.headers['x-stream-version'], String(events.at(-1)!.streamVersion));
      assert.deepEqual(flatten(response.body.subtree), expected.nodes);
      assert.equal(response.body.subtreeNodes, expected.nodes.size);
      assert.deepEqual(response.body.g, expected.g);
      assert.equal(response.body.subtree.n, 280, 'the root is visited once per tree-building and MCT step');
      const probabilities = (response.body.subtree.children as SubtreeJson[]).map((c) => c.probability!);
      assert.ok(probabilities.every((p) => p >= 0 && p <= 1) && probabilities.reduce((a, b) => a + b, 0) <= 1 + 1e-9);
      assert.equal(response.body.topLeaves.length, 5);
    });

    it('given a past position, when the tree is read at it, then it equals a rebuild of the events up to it', async () => {
      const past = events.filter((e) => e.type === 'VisitCountsUpdated')[150]!;
      const response = await api.http.get(`/experiments/${id}/tree`).query({ at: past.position, depth: 8 }).expect(200);
      const expected = rebuilt(events.filter((e) => e.position <= past.position));
      assert.equal(response.body.position, past.position);
      assert.equal(response.body.at, past.position);
      assert.deepEqual(flatten(response.body.subtree), expected.nodes);
      assert.deepEqual(response.body.g, expected.g);
      const now = await api.http.get(`/experiments/${id}/tree`).query({ depth: 8 }).expect(200);
      assert.ok(now.body.subtree.n > response.body.subtree.n, 'the past differs from now');
    });

    it('given a subtree path, then the snapshot starts at that node with its probability and G', async () => {
      const root = await api.http.get(`/experiments/${id}/tree`).query({ depth: 1 }).expect(200);
      const first = (root.body.subtree.children as SubtreeJson[]).sort((a, b) => b.n - a.n)[0]!;
      const sub = await api.http.get(`/experiments/${id}/tree`).query({ path: first.path.replaceAll('.', ','), depth: 0 }).expect(200);
      assert.equal(sub.body.subtree.path, first.path);
      assert.equal(sub.body.subtree.n, first.n);
      assert.equal(sub.body.subtree.probability, first.probability);
      assert.equal(sub.body.subtree.g, first.g);
      assert.equal(sub.body.subtree.children, undefined, 'depth 0: the node only');
      await api.http.get(`/experiments/${id}/tree`).query({ path: '9' }).expect(422);
      await api.http.get(`/experiments/${id}/tree`).query({ depth: 'x' }).expect(400);
    });

    for (const depth of [2, 8]) {
      it(`given a node at depth ${depth}, when its ledger is paged through, then it sums to the node's (n, S) with loss, Ltilde, Q, worker and checkpoint`, async () => {
        const tree = await api.http.get(`/experiments/${id}/tree`).query({ depth: 8 }).expect(200);
        const nodes = [...flatten(tree.body.subtree)].filter(([path]) => path.split('.').length === depth && path !== '');
        const [path, node] = nodes.sort((a, b) => b[1].n - a[1].n)[0]!;
        const entries: { step: number; dn: number; ds: number; n: number; s: number; loss: number; movingAverageLoss: number; reward: number; worker: string; checkpoint: { step: number } | null }[] = [];
        let after = 0;
        let totals: { entries: number; n: number; s: number } | null = null;
        for (;;) {
          const page = await api.http.get(`/experiments/${id}/nodes/${path}`).query({ limit: 7, after }).expect(200);
          assert.equal(page.body.node.n, node.n);
          entries.push(...page.body.ledger.entries);
          totals = page.body.ledger.totals;
          if (page.body.ledger.next === null) break;
          after = page.body.ledger.next;
        }
        assert.equal(entries.length, node.n, 'one entry per visit');
        assert.equal(totals!.entries, node.n);
        assert.equal(entries.reduce((a, e) => a + e.dn, 0), node.n);
        assert.ok(Math.abs(entries.reduce((a, e) => a + e.ds, 0) - node.s) < 1e-9 * Math.max(1, node.s));
        assert.equal(totals!.n, node.n);
        assert.ok(Math.abs(totals!.s - node.s) < 1e-12 * Math.max(1, node.s));
        assert.deepEqual({ n: entries.at(-1)!.n, s: entries.at(-1)!.s }, node);
        for (const entry of entries) {
          assert.equal(entry.worker, 'trainer-1');
          assert.ok(Math.abs(entry.ds - entry.reward) < 1e-12, 'each visit adds its step reward Q');
          assert.ok(Math.abs(entry.reward - entry.movingAverageLoss / entry.loss) < 1e-12, 'Q = Ltilde / loss');
          assert.equal(entry.checkpoint?.step ?? null, entry.step > CHECKPOINT_STEP ? CHECKPOINT_STEP : null);
        }
      });
    }

    it('given the run, then G per (layer, op) now matches the rebuild and its history ends at the current value', async () => {
      const ops = await api.http.get(`/experiments/${id}/ops`).query({ layer: 3, op: 1, limit: 5000 }).expect(200);
      assert.deepEqual(ops.body.g, rebuilt(events).g);
      const history = ops.body.history.entries as { values: { layer: number; op: number; value: number }[] }[];
      assert.ok(history.length > 0 && history.every((h) => h.values.length === 1 && h.values[0]!.layer === 3 && h.values[0]!.op === 1));
      assert.equal(history.at(-1)!.values[0]!.value, ops.body.g[3][1]);
      await api.http.get(`/experiments/${id}/ops`).query({ layer: 8 }).expect(422);
    });

    it('given the history, then events page by stream version and filter by type and step range', async () => {
      const filtered = await api.http.get(`/experiments/${id}/events`).query({ type: 'RewardRecorded,VisitCountsUpdated', fromStep: 100, toStep: 104 }).expect(200);
      assert.deepEqual(
        filtered.body.events.map((e: { type: string; data: { step: number } }) => `${e.type}:${e.data.step}`),
        [100, 101, 102, 103, 104].flatMap((s) => [`RewardRecorded:${s}`, `VisitCountsUpdated:${s}`]),
      );
      let after = 0;
      let seen = 0;
      for (;;) {
        const page = await api.http.get(`/experiments/${id}/events`).query({ after, limit: 1000 }).expect(200);
        assert.equal(page.body.version, events.at(-1)!.streamVersion);
        seen += page.body.events.length;
        if (page.body.next === null) break;
        after = page.body.next;
      }
      assert.equal(seen, events.length);
      await api.http.get(`/experiments/${id}/events`).query({ type: 'NoSuchEvent' }).expect(400);
      await api.http.get('/experiments/exp-missing/events').expect(404);
    });

    it('given the experiment, then its status states phase, step, lease, newest checkpoint and position', async () => {
      const status = await api.http.get(`/experiments/${id}`).expect(200);
      assert.equal(status.body.phase, 'mct-sampling');
      assert.equal(status.body.lastRewardedStep, 299);
      assert.equal(status.body.nextStep, null);
      assert.equal(status.body.lease.workerId, 'trainer-1');
      assert.equal(status.body.lease.active, true);
      assert.equal(status.body.lease.leaseId, undefined, 'the lease id is the worker credential');
      assert.equal(status.body.newestCheckpoint.step, CHECKPOINT_STEP);
      assert.equal(status.body.position, events.at(-1)!.position);
      const list = await api.http.get('/experiments').expect(200);
      assert.ok(list.body.experiments.some((e: { id: string }) => e.id === id));
      const checkpoints = await api.http.get(`/experiments/${id}/checkpoints`).expect(200);
      assert.equal(checkpoints.body.checkpoints.length, 1);
    });

    it('given other hyperparameters, when the run is replayed, then the difference is reported and nothing is written', async () => {
      const before = await countEvents(api.db);
      const same = await api.http.post(`/experiments/${id}/replay`).set(auth).send({ skipPolicyAnalysis: true }).expect(200);
      assert.equal(same.body.report.training.tree.identical, true, 'the recorded settings rebuild the recorded tree');
      const other = await api.http.post(`/experiments/${id}/replay`).set(auth).send({ hyperparameters: { beta: 0.5, gamma: 0.5 } }).expect(200);
      assert.equal(other.body.report.training.tree.identical, false);
      assert.equal(other.body.report.hyperparameters.alternative.beta, 0.5);
      assert.equal(await countEvents(api.db), before);
      await api.http.post(`/experiments/${id}/replay`).set(auth).send({ hyperparameters: { beta: 2 } }).expect(400);
    });

    it('given no trainer attached, then starting a search is a conflict and the search read is empty', async () => {
      const refused = await api.http.post(`/experiments/${id}/search`).set(auth).send({ strategy: 'random' }).expect(409);
      assert.equal(refused.body.code, 'NoSearchLauncherError');
      const searches = await api.http.get(`/experiments/${id}/search`).expect(200);
      assert.deepEqual(searches.body.searches, []);
    });

    it('given minPosition ahead of the database, then the read waits for it, or answers 409 when it does not come', async () => {
      const head = events.at(-1)!.position;
      const late = await api.http.get(`/experiments/${id}`).query({ minPosition: head + 1000, waitMs: 200 }).expect(409);
      assert.equal(late.body.code, 'PositionNotReachedError');
      assert.equal(late.headers['retry-after'], '1');
      const waiting = api.http.get(`/experiments/${id}`).query({ minPosition: head + 1, waitMs: 5000 });
      const pending = waiting.then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const paused = await api.http.post(`/experiments/${id}/pause`).set(auth).send({ reason: 'maintenance' }).expect(200);
      const answer = await pending;
      assert.equal(answer.status, 200);
      assert.equal(answer.body.lifecycle, 'paused', 'the read reflects the write it waited for');
      assert.ok(answer.body.position >= paused.body.position);
      await api.http.post(`/experiments/${id}/resume`).set(auth).send({}).expect(200);
    });

    it('given the run, then /metrics reports events appended, steps, the lease and the live lag', async () => {
      const metrics = await api.http.get('/metrics').expect(200);
      assert.match(metrics.headers['content-type']!, /text\/plain/);
      assert.match(metrics.text, /mctnas_events_appended_total\{type="RewardRecorded"\} \d+/);
      assert.match(metrics.text, /mctnas_training_steps_total\{experiment="[^"]+"\} \d+/);
      assert.match(metrics.text, new RegExp(`mctnas_lease_held\\{experiment="${id}",worker="trainer-1"\\} 1`));
      assert.match(metrics.text, /mctnas_live_lag_events \d+/);
      assert.match(metrics.text, /mctnas_event_delivery_lag_seconds_bucket/);
    });

    it('given the service, then /docs serves the OpenAPI UI and /docs-json the document', async () => {
      const ui = await api.http.get('/docs').redirects(1).expect(200);
      assert.match(ui.headers['content-type']!, /text\/html/);
      const document = await api.http.get('/docs-json').expect(200);
      for (const path of ['/experiments', '/experiments/{id}/tree', '/experiments/{id}/nodes/{path}', '/experiments/{id}/tell', '/experiments/{id}/events/stream']) {
        assert.ok(document.body.paths[path], path);
      }
    });
  });
}
