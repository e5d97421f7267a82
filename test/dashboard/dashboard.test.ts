/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against the real
 * service on both databases: tabular NAS-Bench-Macro experiments trained by the oracle through
 * the real commands; every page must load with no failed request and no console error.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { dashboardBuilt } from '../../src/dashboard/dashboard.module.js';
import type { Database } from '../../src/database/database.js';
import type { Runtime } from '../../src/runtime.js';
import { testBackends } from '../support/databases.js';
import { nasBenchMacroJson } from '../support/paths.js';
import { type DashboardService, launchBrowser, newOracleExperiment, type PageProblems, runtimeOver, serveDashboard, startWhatIfReplay, TOKEN, trainedOracleExperiment, trainPaced, watchPage } from './support.js';

// Browser globals of the functions that run in the page (chromium), not in Node.
declare const document: { querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null };
declare const location: { hash: string };

const skip = !existsSync(nasBenchMacroJson) ? 'NAS-Bench-Macro table not found' : !dashboardBuilt() ? 'dashboard not built (npm run build)' : false;

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

for (const backend of testBackends) {
  describe(`dashboard in chromium (${backend.name})`, { skip }, () => {
    let db: Database;
    let runtime: Runtime;
    let service: DashboardService;
    let browser: Browser;
    let trained: string;
    const getJson = async (path: string, headers: Record<string, string> = {}): Promise<Json> => {
      const response = await fetch(`${service.url}${path}`, { headers });
      assert.equal(response.status, 200, `${path}: ${response.status}`);
      return (await response.json()) as Json;
    };
    /** A page with its problems recorded; `check` asserts there were none. */
    const open = async (hash: string): Promise<{ page: Page; problems: PageProblems; check: () => void }> => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems = watchPage(page);
      await page.goto(`${service.url}/${hash}`);
      return {
        page,
        problems,
        check: () => {
          assert.deepEqual(problems.failures, [], 'no request fails');
          assert.deepEqual(problems.errors, [], 'no console error');
        },
      };
    };

    before(async () => {
      db = await backend.open();
      runtime = runtimeOver(db);
      service = await serveDashboard(runtime);
      browser = await launchBrowser();
      trained = await trainedOracleExperiment(runtime, 'trained tabular run');
    });
    after(async () => {
      await browser?.close();
      await service?.close();
    });

    it('serves the page at / and lists the experiments with their progress', async () => {
      const { page, check } = await open('');
      const row = page.getByTestId(`run-${trained}`);
      await row.waitFor();
      assert.match(await row.innerText(), /trained tabular run/);
      assert.match(await row.getByTestId('progress').innerText(), /^200 \/ 200$/);
      assert.match(await row.innerText(), /done|completed/);
      check();
      await page.close();
    });

    it('creates an experiment from a preset and shows a validation error next to the field', async () => {
      const { page, problems } = await open('');
      await page.getByTestId('set-token').click();
      await page.getByTestId('token').fill(TOKEN);
      await page.getByTestId('token').press('Enter');
      await page.getByTestId('name').fill('x'.repeat(201));
      await page.getByTestId('create').click();
      assert.match(await page.getByTestId('error-name').innerText(), /200/);
      await page.getByTestId('name').fill('from the dashboard');
      await page.getByTestId('create').click();
      await page.getByTestId('created').waitFor();
      const list = await getJson('/experiments');
      assert.ok(list.experiments.some((e: Json) => e.name === 'from the dashboard'));
      assert.deepEqual(problems.errors, []);
      assert.deepEqual(problems.failures.filter((f) => !/^400 POST .*\/experiments$/.test(f)), [], 'only the invalid create failed');
      assert.equal(problems.failures.length, 1);
      await page.close();
    });

    it('follows a live run: the chart gains points and the step moves without a reload', async () => {
      const id = await newOracleExperiment(runtime, 'live tabular run');
      const controller = new AbortController();
      await trainPaced(runtime, id, { delayMs: 0, signal: controller.signal, maxSteps: 30 });
      const { page, check } = await open(`#/runs/${id}`);
      await page.getByTestId('loss-chart').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid=stream-state]')?.textContent?.startsWith('live'));
      const points = async () => Number(await page.getByTestId('chart-points').getAttribute('data-points'));
      const before = await points();
      const training = trainPaced(runtime, id, { delayMs: 20, signal: controller.signal, maxSteps: 40 });
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid=chart-points]')?.getAttribute('data-points')) >= n + 20, before, { timeout: 30_000 });
      await training;
      await page.waitForFunction(() => /step 70 \//.test(document.querySelector('[data-testid=run-step]')?.textContent ?? ''), undefined, { timeout: 30_000 });
      assert.ok((await points()) >= before + 20);
      check();
      await page.close();
    });

    it("opens a node's reward ledger whose totals equal the node's (n, S)", async () => {
      const { page, check } = await open(`#/runs/${trained}`);
      await page.getByTestId('node-root').click();
      await page.getByTestId('ledger-check').waitFor();
      const root = await getJson(`/experiments/${trained}/nodes/root?limit=1`);
      assert.equal(Number(await page.getByTestId('node-n').innerText()), root.node.n);
      assert.equal(Number(await page.getByTestId('ledger-n').innerText()), root.node.n);
      assert.equal(await page.getByTestId('ledger-check').innerText(), '= node (n, S)');
      // a child, opened lazily
      const tree = await getJson(`/experiments/${trained}/tree?depth=1`);
      const child = tree.subtree.children[0];
      await page.getByTestId(`node-${child.path}`).click();
      await page.waitForFunction((n) => document.querySelector('[data-testid=node-n]')?.textContent === String(n), child.n);
      assert.equal(Number(await page.getByTestId('ledger-n').innerText()), child.n);
      assert.equal(Number(await page.getByTestId('ledger-s').innerText()), Number(await page.getByTestId('node-s').innerText()));
      assert.equal(await page.getByTestId('ledger-check').innerText(), '= node (n, S)');
      check();
      await page.close();
    });

    it('moves the time slider: the tree becomes the snapshot the API returns at that position, and the URL holds it', async () => {
      const { page, check } = await open(`#/runs/${trained}`);
      const slider = page.getByTestId('slider');
      await slider.waitFor();
      const min = Number(await slider.getAttribute('min'));
      const max = Number(await slider.getAttribute('max'));
      const target = Math.round(min + (max - min) * 0.4);
      await slider.evaluate((element, value) => {
        const input = element as unknown as { value: string; dispatchEvent(event: Event): boolean };
        input.value = String(value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      }, target);
      await page.waitForFunction((p) => location.hash.endsWith(`?at=${p}`) && document.querySelector('[data-testid=tree-position]')?.textContent?.includes(`position ${p}`), target);
      const snapshot = await getJson(`/experiments/${trained}/tree?at=${target}&depth=1`);
      const rootRow = await page.locator('[data-path=root] .stats').innerText();
      assert.match(rootRow, new RegExp(`^n=${snapshot.subtree.n} `));
      const now = await getJson(`/experiments/${trained}/tree?depth=1`);
      assert.notEqual(snapshot.subtree.n, now.subtree.n, 'the past tree differs from the current one');
      for (const child of snapshot.subtree.children) {
        assert.match(await page.locator(`[data-path="${child.path}"] .stats`).innerText(), new RegExp(`^n=${child.n} `));
      }
      // the URL reproduces the view
      await page.reload();
      await page.waitForFunction((p) => document.querySelector('[data-testid=tree-position]')?.textContent?.includes(`position ${p}`), target);
      check();
      await page.close();
    });

    it('runs a what-if replay that shows a difference and writes nothing', async () => {
      const before = await getJson(`/experiments/${trained}/events?limit=1`);
      const { page, problems } = await open(`#/runs/${trained}`);
      await startWhatIfReplay(page);
      const summary = await page.getByTestId('whatif-summary').innerText({ timeout: 20_000 });
      assert.match(summary, /^the tree differs: [1-9]\d* nodes changed/);
      const afterwards = await getJson(`/experiments/${trained}/events?limit=1`);
      assert.equal(afterwards.version, before.version, 'the stream did not grow');
      assert.equal(afterwards.position, before.position);
      assert.deepEqual(problems.failures, []);
      assert.deepEqual(problems.errors, []);
      await page.close();
    });

    it('asks a protected deployment for the token once, then shows the runs', async () => {
      const guarded = await serveDashboard(runtime, { protectReads: true }, true);
      try {
        const page = await browser.newPage();
        const problems = watchPage(page, (url, status) => status === 401 && url.startsWith(guarded.url));
        await page.goto(`${guarded.url}/`);
        await page.getByTestId('token-form').waitFor();
        const unauthorized = problems.failures.length;
        await page.getByTestId('token').fill(TOKEN);
        await page.getByTestId('token').press('Enter');
        await page.getByTestId(`run-${trained}`).waitFor();
        // the token is kept for the session: a reload does not ask again
        await page.reload();
        await page.getByTestId(`run-${trained}`).waitFor();
        assert.equal(await page.getByTestId('token-form').count(), 0);
        assert.equal(unauthorized, 0);
        assert.deepEqual(problems.failures, []);
        assert.deepEqual(problems.errors, []);
        await page.close();
      } finally {
        await guarded.close();
      }
    });
  });
}
