/**
 * Tree views that scale with clients: each answer carries an entity tag of (experiment, stream
 * version, query), a client sending it back gets 304 until an event changes the view, and a view
 * too large to render and keep (the full tree) is streamed in chunks from a stable copy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STREAM_ABOVE_NODES } from '../../src/api/tree/tree-snapshot.js';
import type { StoredEvent } from '../../src/events/stored-event.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { testBackends } from '../support/databases.js';
import { buildSyntheticTree } from '../support/synthetic-tree.js';
import { type ApiHarness, flatten, rebuilt, startApi } from './support.js';

for (const backend of testBackends.filter((b) => b.name === 'pglite')) {
  describe(`tree views on ${backend.name}`, () => {
    let api: ApiHarness;
    let runtime: Runtime;
    let id: string;
    let events: StoredEvent[];

    before(async () => {
      api = await startApi(backend);
      runtime = createRuntime(api.db);
      // ImageNet space: ~18 new nodes per step, so 400 steps give a tree of ~7000 nodes.
      ({ id } = await buildSyntheticTree(runtime, 400));
      events = await runtime.store.readStream(id);
    });
    after(() => api.close());

    it('given a view, then it carries a strong tag of its stream version; sent back, it is answered 304 with no body until an event changes the view', async () => {
      const version = events.at(-1)!.streamVersion;
      const first = await api.http.get(`/experiments/${id}/tree`).query({ depth: 2, top: 5 }).expect(200);
      const etag = first.headers.etag as string;
      assert.match(etag, new RegExp(`^"${version}-[A-Za-z0-9_-]+"$`));
      const again = await api.http.get(`/experiments/${id}/tree`).query({ depth: 2, top: 5 }).set('If-None-Match', etag).expect(304);
      assert.equal(again.text, '');
      assert.equal(again.headers.etag, etag);
      assert.equal(again.headers['x-stream-version'], String(version));
      const otherQuery = await api.http.get(`/experiments/${id}/tree`).query({ depth: 3, top: 5 }).set('If-None-Match', etag).expect(200);
      assert.notEqual(otherQuery.headers.etag, etag, 'another query, another tag');
      await runtime.service.pause(id, 'tree views');
      const changed = await api.http.get(`/experiments/${id}/tree`).query({ depth: 2, top: 5 }).set('If-None-Match', etag).expect(200);
      assert.match(changed.headers.etag as string, new RegExp(`^"${version + 1}-`));
      assert.deepEqual({ ...changed.body, version: first.body.version, position: first.body.position }, first.body, 'a pause changes the version, not the tree');
    });

    it(`given a view of more than ${STREAM_ABOVE_NODES} nodes, when the full tree is read, then it is streamed in chunks and equals a rebuild from the events`, async () => {
      const all = await runtime.store.readStream(id);
      const expected = rebuilt(all);
      assert.ok(expected.nodes.size > STREAM_ABOVE_NODES, `a tree of ${expected.nodes.size} nodes`);
      const response = await api.http.get(`/experiments/${id}/tree`).query({ depth: 21, top: 3 }).expect(200);
      assert.equal(response.headers['transfer-encoding'], 'chunked', 'streamed, not rendered whole');
      assert.equal(response.headers['content-length'], undefined);
      assert.match(response.headers['content-type'] as string, /^application\/json/);
      assert.equal(response.headers['x-stream-version'], String(all.at(-1)!.streamVersion));
      assert.deepEqual(flatten(response.body.subtree), expected.nodes);
      assert.equal(response.body.subtreeNodes, expected.nodes.size);
      assert.deepEqual(response.body.g, expected.g);
      assert.equal(response.body.topLeaves.length, 3);
      assert.deepEqual(response.body.path, []);
      // The streamed document is the rendered one: the same keys in the same order as a small view's.
      const small = await api.http.get(`/experiments/${id}/tree`).query({ depth: 0, top: 3 }).expect(200);
      assert.deepEqual(Object.keys(response.body), Object.keys(small.body));
      // stats.bytes is the allocated size of the store answering: the stable copy is trimmed, the live store has room to grow.
      const comparable = (body: Record<string, unknown>) => ({ ...body, subtree: null, subtreeNodes: 0, depth: 0, stats: { ...(body.stats as object), bytes: 0 } });
      assert.deepEqual(comparable(response.body), comparable(small.body));
      const notModified = await api.http.get(`/experiments/${id}/tree`).query({ depth: 21, top: 3 }).set('If-None-Match', response.headers.etag as string).expect(304);
      assert.equal(notModified.text, '');
    });

    it('given a streamed view of a subtree as of a past position, then it equals a rebuild of the events up to it', async () => {
      const past = events[Math.floor(events.length * 0.9)]!;
      const expected = rebuilt(events.filter((e) => e.position <= past.position));
      const response = await api.http.get(`/experiments/${id}/tree`).query({ at: past.position, depth: 21, top: 0 }).expect(200);
      assert.equal(response.headers['transfer-encoding'], 'chunked');
      assert.equal(response.body.at, past.position);
      assert.deepEqual(flatten(response.body.subtree), expected.nodes);
    });
  });
}
