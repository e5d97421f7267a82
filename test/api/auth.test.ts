import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_TOKEN_FILE, resolveApiAuth } from '../../src/api/shared/auth.js';
import { testBackends } from '../support/databases.js';
import { type ApiHarness, auth, countEvents, smallRun, startApi, TOKEN } from './support.js';

// One database open per suite costs seconds on PGlite; the token logic does not depend on the
// backend, so these run on Postgres (the SSE and end-to-end suites cover the rest).
const postgres = testBackends.find((b) => b.name === 'postgres')!;

describe('API authentication on postgres', () => {
  let api: ApiHarness;
  let id: string;

  before(async () => {
    api = await startApi(postgres);
    id = (await api.http.post('/experiments').set(auth).send(smallRun).expect(201)).body.id;
  });
  after(() => api.close());

  it('given no token or a wrong one, when writing, then every write is refused with 401 and nothing is written', async () => {
    const before = await countEvents(api.db);
    const writes = [
      api.http.post('/experiments').send(smallRun),
      api.http.post(`/experiments/${id}/pause`).send({}),
      api.http.post(`/experiments/${id}/resume`).send({}),
      api.http.post(`/experiments/${id}/lease`).send({ workerId: 'w' }),
      api.http.post(`/experiments/${id}/lease/heartbeat`).send({ leaseId: 'x' }),
      api.http.delete(`/experiments/${id}/lease/x`),
      api.http.post(`/experiments/${id}/ask`).send({ leaseId: 'x' }),
      api.http.post(`/experiments/${id}/tell`).send({ leaseId: 'x', step: 0, loss: 1 }),
      api.http.post(`/experiments/${id}/search`).send({}),
      api.http.post(`/experiments/${id}/replay`).send({}),
      api.http.post('/experiments').set('Authorization', `Bearer ${TOKEN}x`).send(smallRun),
      api.http.post('/experiments').set('Authorization', TOKEN).send(smallRun),
      api.http.post('/experiments').set('Authorization', 'Bearer ').send(smallRun),
    ];
    for (const [i, response] of (await Promise.all(writes)).entries()) {
      assert.equal(response.status, 401, `write #${i}`);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
      assert.equal(response.body.code, 'UnauthorizedError');
    }
    assert.equal(await countEvents(api.db), before);
  });

  it('given the token, then writes go through; reads are open by default and /health always is', async () => {
    await api.http.post(`/experiments/${id}/pause`).set(auth).send({ reason: 'r' }).expect(200);
    await api.http.get(`/experiments/${id}`).expect(200);
    await api.http.get(`/experiments/${id}/tree`).expect(200);
    await api.http.get('/health').expect(200);
  });

  it('given protected reads, then reads need the token too, except /health', async () => {
    const guarded = await startApi(postgres, { protectReads: true });
    try {
      await guarded.http.get('/experiments').expect(401);
      await guarded.http.get('/metrics').expect(401);
      await guarded.http.get('/experiments').set(auth).expect(200);
      await guarded.http.get('/health').expect(200);
    } finally {
      await guarded.close();
    }
  });

  it('given no configured token, then one is generated on first start into the data dir with mode 0600, and reused after', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'mctnas-token-')), 'nested');
    const first = resolveApiAuth({ apiToken: null, protectReads: false, dataDir });
    assert.equal(first.source, 'generated');
    assert.ok(first.token.length >= 32);
    assert.equal(first.file, join(dataDir, API_TOKEN_FILE));
    assert.equal(statSync(first.file!).mode & 0o777, 0o600);
    const second = resolveApiAuth({ apiToken: null, protectReads: false, dataDir });
    assert.deepEqual({ source: second.source, token: second.token }, { source: 'file', token: first.token });
    const configured = resolveApiAuth({ apiToken: TOKEN, protectReads: true, dataDir });
    assert.deepEqual({ source: configured.source, token: configured.token, protectReads: configured.protectReads }, { source: 'config', token: TOKEN, protectReads: true });
  });
});
