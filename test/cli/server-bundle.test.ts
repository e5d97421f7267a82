import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sleep } from '../support/databases.js';
import { repoRoot } from '../support/paths.js';

const bundle = join(repoRoot, 'dist', 'server', 'main.js');

/**
 * `npm start` runs the bundled service (scripts/build-server.mjs, built by `npm run build`): the
 * bundle must behave like the modules it was built from — files found relative to each module
 * (package.json's version, the dashboard), Nest's decorators and dynamic imports (the training
 * stack) working, PGlite opened from outside the bundle.
 */
describe('npm start (the bundled service)', () => {
  it('is what npm start runs', () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts.start!, /node dist\/server\/main\.js$/);
    assert.match(scripts.build!, /scripts\/build-server\.mjs/);
    assert.ok(existsSync(bundle), 'npm run build writes dist/server/main.js');
  });

  it('serves health, the dashboard, the API docs and the default experiment, and starts training it', { timeout: 240_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mctnas-bundle-'));
    const port = 20_000 + (process.pid % 20_000);
    const child = spawn(process.execPath, [bundle], { cwd: repoRoot, env: { ...process.env, PORT: String(port), MCTNAS_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; ; i++) {
        assert.equal(child.exitCode, null, `the service exited: ${output}`);
        if ((await fetch(`${url}/health`).then((r) => r.status, () => 0)) === 200) break;
        assert.ok(i < 1800, `no /health 200 within 180 s: ${output}`);
        await sleep(100);
      }
      const dashboard = await fetch(`${url}/`);
      assert.equal(dashboard.status, 200);
      assert.match(await dashboard.text(), /<script[^>]+app\.js/);
      const docs = (await (await fetch(`${url}/docs-json`)).json()) as { info: { version: string }; paths: Record<string, unknown> };
      assert.equal(docs.info.version, (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
      assert.ok(docs.paths['/health'] && docs.paths['/experiments']);
      for (let i = 0; !/resuming|created/.test(output); i++) {
        assert.ok(i < 600, `the default experiment was not created: ${output}`);
        await sleep(100);
      }
      const experiments = JSON.stringify(await (await fetch(`${url}/experiments`)).json());
      assert.match(experiments, /default: NAS-Bench-Macro/);
      // the training stack (a dynamic import, its own chunk) loads and the first step runs
      for (let i = 0; !/tfjs backend \w+ active/.test(output); i++) {
        assert.ok(i < 1200, `training did not start: ${output}`);
        await sleep(100);
      }
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null) await once(child, 'exit');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
