/**
 * `npm run screenshots`: the dashboard's pages in Debian's chromium, saved as
 * docs/screenshots/*.png (referenced from the README). A tabular NAS-Bench-Macro experiment is
 * trained by the oracle on an embedded database, with a hierarchical and a random search.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { PgliteDatabase } from '../src/database/pglite-database.js';
import { migrate } from '../src/database/data-source.js';
import { launchBrowser, newOracleExperiment, runtimeOver, serveDashboard, startWhatIfReplay, trainedOracleExperiment, trainPaced } from '../test/dashboard/support.js';

const out = 'docs/screenshots';
mkdirSync(out, { recursive: true });
const database = await PgliteDatabase.open();
await migrate(database);
const runtime = runtimeOver(database);
const service = await serveDashboard(runtime);
const trained = await trainedOracleExperiment(runtime, 'NAS-Bench-Macro oracle, seed 1');
const live = await newOracleExperiment(runtime, 'NAS-Bench-Macro oracle, seed 2 (training)');
await trainPaced(runtime, live, { delayMs: 0, signal: new AbortController().signal, maxSteps: 120 });
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const settle = (ms = 800) => new Promise((resolve) => setTimeout(resolve, ms));
const shot = async (p: Page, name: string, fullPage = false) => {
  await settle();
  await p.screenshot({ path: `${out}/${name}.png`, fullPage });
  console.log(`${out}/${name}.png`);
};

await page.goto(`${service.url}/`);
await page.getByTestId(`run-${trained}`).waitFor();
await settle(2500); // two polls: steps/s and ETA
await shot(page, 'runs');

await page.goto(`${service.url}/#/runs/${trained}`);
await page.getByTestId('loss-chart').waitFor();
await page.getByTestId('prob-time').waitFor();
await shot(page, 'run');

await page.getByTestId('toggle-2').click();
await page.getByTestId('node-2').click();
await page.getByTestId('ledger-check').waitFor();
await page.getByTestId('tree').scrollIntoViewIfNeeded();
await page.evaluate('window.scrollBy(0, -60)');
await shot(page, 'tree-ledger');

await startWhatIfReplay(page);
await page.getByTestId('whatif-summary').waitFor({ timeout: 60_000 });
await page.getByTestId('search').scrollIntoViewIfNeeded();
await page.evaluate('window.scrollBy(0, -60)');
await shot(page, 'search-whatif');

const slider = page.getByTestId('slider');
const min = Number(await slider.getAttribute('min'));
const max = Number(await slider.getAttribute('max'));
await page.goto(`${service.url}/#/runs/${trained}?at=${Math.round(min + (max - min) * 0.3)}`);
await page.getByTestId('tree-position').waitFor();
await shot(page, 'time-travel');

await page.goto(`${service.url}/#/runs/${live}`);
await page.getByTestId('loss-chart').waitFor();
const training = trainPaced(runtime, live, { delayMs: 30, signal: new AbortController().signal, maxSteps: 60 });
await settle(2500);
await shot(page, 'live');
await training;

await browser.close();
await service.close();
