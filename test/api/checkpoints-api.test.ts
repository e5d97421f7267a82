import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventStore } from '../../src/events/event-store.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, smallRun, startApi } from './support.js';

const saved = (step: number, extra: object = {}) => ({
  type: 'CheckpointSaved' as const,
  data: { step, epoch: Math.floor(step / 10), location: `exp/step-${step}.ckpt`, sha256: String(step % 10).repeat(64), size: 1000 + step, streamPosition: 1, ...extra },
});

describe('HTTP API: checkpoint inventory, pin and unpin (PGlite)', () => {
  let api: ApiHarness;
  let id: string;
  before(async () => {
    api = await startApi(testBackends.find((b) => b.name === 'pglite')!);
    id = (await api.http.post('/experiments').set(auth).send(smallRun).expect(201)).body.id;
    const service = api.app.get(ExperimentService);
    // a v1 record (before the port: path as the process saw it, no store or verification time)
    await service.append(id, [{ type: 'CheckpointSaved', data: { step: 9, epoch: 0, location: '.mctnas/checkpoints/x/step-9.ckpt', sha256: '9'.repeat(64), size: 1009, streamPosition: 1 } }]);
    await service.append(id, [saved(19, { store: 'local-directory', verifiedAt: '2026-12-02T07:00:00.000Z' }), saved(29, { store: 'local-directory', verifiedAt: '2026-12-02T07:01:00.000Z' })]);
    await service.append(id, [{ type: 'CheckpointPruned', data: { step: 9, location: '.mctnas/checkpoints/x/step-9.ckpt', reason: 'older than the newest 2, not pinned', policy: { keepLast: 2, keepEvery: null } } }]);
  });
  after(() => api.close());

  it('given saved and pruned checkpoints, then the inventory lists each with size, hash, verified-at, pinned and retained state, and the bytes kept', async () => {
    const res = await api.http.get(`/experiments/${id}/checkpoints`).expect(200);
    assert.deepEqual(res.body.checkpoints.map((c: { step: number; retained: boolean }) => [c.step, c.retained]), [[9, false], [19, true], [29, true]]);
    const [old, , newest] = res.body.checkpoints;
    assert.equal(old.verifiedAt, null);
    assert.equal(old.pruned.reason, 'older than the newest 2, not pinned');
    assert.deepEqual(old.pruned.policy, { keepLast: 2, keepEvery: null });
    assert.equal(newest.sha256, '9'.repeat(64));
    assert.equal(newest.size, 1029);
    assert.equal(newest.verifiedAt, '2026-12-02T07:01:00.000Z');
    assert.equal(newest.store, 'local-directory');
    assert.equal(res.body.newest.step, 29);
    assert.equal(res.body.retainedBytes, 1019 + 1029);
    assert.equal(res.body.prunedBytes, 1009);
    assert.equal(res.body.failure, null);
    assert.equal(res.headers['x-stream-position'], String(res.body.position));
  });

  it('given a retained checkpoint, when it is pinned and unpinned over HTTP, then the events record it and both calls are idempotent', async () => {
    await api.http.post(`/experiments/${id}/checkpoints/19/pin`).send({}).expect(401);
    const pinned = await api.http.post(`/experiments/${id}/checkpoints/19/pin`).set(auth).send({ reason: 'paper figure' }).expect(200);
    assert.equal(pinned.body.pinned, true);
    const again = await api.http.post(`/experiments/${id}/checkpoints/19/pin`).set(auth).send({}).expect(200);
    assert.equal(again.body.position, pinned.body.position, 'nothing new written');
    const listed = await api.http.get(`/experiments/${id}/checkpoints?minPosition=${pinned.body.position}`).expect(200);
    assert.equal(listed.body.checkpoints.find((c: { step: number }) => c.step === 19).pinned, true);
    const unpinned = await api.http.delete(`/experiments/${id}/checkpoints/19/pin`).set(auth).expect(200);
    assert.equal(unpinned.body.pinned, false);
    const types = (await api.app.get(EventStore).readStream(id)).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'CheckpointPinned').length, 1);
    assert.equal(types.filter((t) => t === 'CheckpointUnpinned').length, 1);
    const stored = (await api.app.get(EventStore).readStream(id, { types: ['CheckpointPinned'] }))[0]!;
    assert.deepEqual(stored.data, { step: 19, reason: 'paper figure' });
  });

  it('given a pruned or unknown step, or a malformed one, then 404 or 400 naming the field, and nothing is written', async () => {
    const pruned = await api.http.post(`/experiments/${id}/checkpoints/9/pin`).set(auth).send({}).expect(404);
    assert.equal(pruned.body.code, 'CheckpointNotFound');
    assert.match(pruned.body.message, /it was pruned/);
    await api.http.post(`/experiments/${id}/checkpoints/7/pin`).set(auth).send({}).expect(404);
    const bad = await api.http.post(`/experiments/${id}/checkpoints/-1/pin`).set(auth).send({}).expect(400);
    assert.equal(bad.body.field, 'param.step');
    const body = await api.http.post(`/experiments/${id}/checkpoints/19/pin`).set(auth).send({ reason: 5 }).expect(400);
    assert.equal(body.body.field, 'body.reason');
    await api.http.get('/experiments/exp-none/checkpoints').expect(404);
  });
});
