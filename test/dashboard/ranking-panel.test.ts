/**
 * The ranking panel of the run page in chromium (playwright-core, Debian's chromium) against the
 * real service on PGlite: a tiny experiment, the hand-made table's analysis recorded while the
 * page is open (the panel follows the live stream), then tau, rho, top-k and the scatter shown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { dashboardBuilt } from '../../src/dashboard/dashboard.module.js';
import { analyseRanking } from '../../src/experiments/ranking-runner.js';
import type { Runtime } from '../../src/runtime.js';
import { testBackends } from '../support/databases.js';
import { HAND_MADE_RHO, HAND_MADE_TAU, handMadeAnalysis, trainedTiny } from '../support/ranking-fixture.js';
import { type DashboardService, launchBrowser, runtimeOver, serveDashboard, watchPage } from './support.js';

// Browser globals of the functions that run in the page (chromium), not in Node.
declare const document: { querySelector(selector: string): { getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } }; width: number; height: number } | null };

const skip = !dashboardBuilt() ? 'dashboard not built (npm run build)' : false;

describe('dashboard ranking panel in chromium (pglite)', { skip }, () => {
  let runtime: Runtime;
  let service: DashboardService;
  let browser: Browser;
  before(async () => {
    runtime = runtimeOver(await testBackends.find((b) => b.name === 'pglite')!.open());
    service = await serveDashboard(runtime);
    browser = await launchBrowser();
    await trainedTiny(runtime.service, 'tiny-ranked');
  });
  after(async () => {
    await browser?.close();
    await service?.close();
  });

  it('given a run without analysis, when one is recorded, then the panel shows its tau, rho, top-k and the scatter of its pairs', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems = watchPage(page);
    await page.goto(`${service.url}/#/runs/tiny-ranked`);
    const panel = page.getByTestId('ranking');
    await panel.getByText('no ranking analysis recorded').waitFor();
    const analysis = await analyseRanking(runtime.service, 'tiny-ranked', handMadeAnalysis);
    const row = panel.getByTestId('ranking-hand-made');
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await row.getByTestId('ranking-tau').innerText(), `${HAND_MADE_TAU.toPrecision(3)} ± ${analysis!.report.kendallTauStandardError!.toPrecision(2)}`);
    assert.match(await row.getByTestId('ranking-rho').innerText(), new RegExp(`^${HAND_MADE_RHO.toPrecision(3)} ± `));
    assert.equal(await row.getByTestId('ranking-topk').innerText(), 'top-1 1, top-2 0.50, top-3 0.67');
    // the scatter is drawn: its canvas has coloured (non-white, non-transparent) pixels
    await panel.getByTestId('ranking-scatter').locator('canvas').waitFor();
    const coloured = await page.evaluate(() => {
      const canvas = document.querySelector('[data-testid="ranking-scatter"] canvas')!;
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3]! > 0 && (pixels[i]! < 200 || pixels[i + 2]! < 200)) count++;
      return count;
    });
    assert.ok(coloured > 100, `the scatter has drawn points (${coloured} coloured pixels)`);
    // as of the position before the analysis, the panel has none
    await page.goto(`${service.url}/#/runs/tiny-ranked?at=${analysis!.position - 1}`);
    await page.getByTestId('ranking').getByText('no ranking analysis recorded').waitFor();
    assert.deepEqual(problems.failures, [], 'no request fails');
    assert.deepEqual(problems.errors, [], 'no console error');
    await page.close();
  });
});
