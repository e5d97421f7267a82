import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { connectDatabase } from '../../src/database/open-database.js';

const sharedBuffers = async (settings: { pgliteSharedBuffers?: string | null }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mctnas-buffers-'));
  const database = await connectDatabase({ databaseUrl: null, dataDir, ...settings });
  try {
    const [row] = await database.query<{ shared_buffers: string }>('SHOW shared_buffers');
    return row!.shared_buffers;
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

describe('MCTNAS_PGLITE_SHARED_BUFFERS (embedded database)', () => {
  it("given no setting, then PGlite runs with Postgres's default shared_buffers", async () => {
    assert.equal(loadConfig({}).pgliteSharedBuffers, null);
    assert.equal(await sharedBuffers({}), '128MB');
  });

  it('given a size, then the embedded database starts with it', async () => {
    const config = loadConfig({ MCTNAS_PGLITE_SHARED_BUFFERS: '16MB' });
    assert.equal(config.pgliteSharedBuffers, '16MB');
    assert.equal(await sharedBuffers(config), '16MB');
  });

  it('refuses anything but a size', () => {
    assert.throws(() => loadConfig({ MCTNAS_PGLITE_SHARED_BUFFERS: '16MB; drop table events' }), ConfigError);
    assert.throws(() => loadConfig({ MCTNAS_PGLITE_SHARED_BUFFERS: 'lots' }), /must be a size/);
  });
});
