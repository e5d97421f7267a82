/**
 * `npm run bench:dashboard`: the dashboard in Debian's chromium against the real service.
 *  1. First load of a run page (status, loss chart, probabilities, tree, G table, search) on a
 *     ~110k-node tree (synthetic ImageNet-space steps), cold (the server's projection not yet
 *     cached) and warm (reloads), against the same page on a 200-step tabular run measured in
 *     the same run (the baseline), and against the API reads alone (fetched from Node).
 *  2. Frame rate of the live run page while a tabular run trains at ~50 events/s (one step =
 *     3 events every 60 ms), against the same page with no events (the baseline).
 * Prints a table and writes bench/results/dashboard.json. BENCH_DASHBOARD_STEPS (default 6000)
 * sets the tree size; BENCH_BACKEND=pglite|postgres (default postgres, DATABASE_URL).
 */
import { testBackends } from '../test/support/databases.js';
import { launchBrowser, newOracleExperiment, runtimeOver, serveDashboard, trainedOracleExperiment, trainPaced } from '../test/dashboard/support.js';
import { percentile, printTable, timed, writeJson } from './support.js';
import { buildSyntheticTree } from '../test/support/synthetic-tree.js';
import type { Page } from 'playwright-core';

const STEPS = Number(process.env.BENCH_DASHBOARD_STEPS ?? 6000);
const BACKEND = process.env.BENCH_BACKEND ?? 'postgres';
const WARM_LOADS = 5;
const FPS_SECONDS = 10;
const STEP_INTERVAL_MS = 60;

declare const document: { querySelector(selector: string): unknown };

const loaded = () =>
  Boolean(
    document.querySelector('[data-testid=tree-position]') &&
      document.querySelector('[data-testid=loss-chart]') &&
      document.querySelector('[data-testid=g-table]') &&
      document.querySelector('[data-testid=search] table, [data-testid=search] p') &&
      document.querySelector('[data-testid=prob-now], [data-testid=prob-none]'),
  );

async function pageLoad(page: Page, url: string): Promise<number> {
  await page.goto('about:blank');
  const { seconds } = await timed(async () => {
    await page.goto(url);
    await page.waitForFunction(loaded, undefined, { timeout: 60_000, polling: 'raf' });
  });
  return seconds * 1000;
}

/** The reads the run page makes on first load, fetched from Node (no browser, no rendering). */
async function apiLoad(base: string, id: string): Promise<number> {
  const e = `${base}/experiments/${encodeURIComponent(id)}`;
  const paths = ['/experiments', e, `${e}/timeline?points=1000`, `${e}/timeline/heatmaps?points=150`, `${e}/tree?depth=1&top=10`, `${e}/search`, `${e}/events?limit=25`];
  const { seconds } = await timed(() => Promise.all(paths.map(async (p) => (await fetch(p.startsWith('http') ? p : `${base}${p}`)).arrayBuffer())));
  return seconds * 1000;
}

/** Frames per second and frames longer than 50 ms over `seconds`, counted by requestAnimationFrame in the page. */
async function frameRate(page: Page, seconds: number): Promise<{ fps: number; longFrames: number; events: number }> {
  return page.evaluate(
    `new Promise((resolve) => {
      const feed = window.__mctnasFeed;
      const events0 = feed ? feed.received : 0;
      let frames = 0, long = 0, start = performance.now(), last = start;
      const tick = (t) => {
        if (t - last > 50) long++;
        frames++;
        last = t;
        if (t - start < ${seconds * 1000}) requestAnimationFrame(tick);
        else resolve({ fps: (frames * 1000) / (t - start), longFrames: long, events: (feed ? feed.received : 0) - events0 });
      };
      requestAnimationFrame(tick);
    })`,
  );
}

async function main(): Promise<void> {
  const backend = testBackends.find((b) => b.name === BACKEND)!;
  const database = await backend.open();
  const runtime = runtimeOver(database);
  const service = await serveDashboard(runtime);
  const browser = await launchBrowser();
  try {
    const small = await trainedOracleExperiment(runtime, 'baseline tabular run');
    const built = await buildSyntheticTree(runtime, STEPS);
    const nodes = (await (await fetch(`${service.url}/experiments/${built.id}`)).json()) as { tree: { nodes: number } };
    console.log(`${BACKEND}: ${nodes.tree.nodes} nodes from ${STEPS} steps built in ${built.seconds.toFixed(1)} s`);
    runtime.projections.forget();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const url = (id: string) => `${service.url}/#/runs/${encodeURIComponent(id)}`;

    const cold = await pageLoad(page, url(built.id));
    const warm: number[] = [];
    for (let i = 0; i < WARM_LOADS; i++) warm.push(await pageLoad(page, url(built.id)));
    const api: number[] = [];
    for (let i = 0; i < WARM_LOADS; i++) api.push(await apiLoad(service.url, built.id));
    await pageLoad(page, url(small));
    const baseline: number[] = [];
    for (let i = 0; i < WARM_LOADS; i++) baseline.push(await pageLoad(page, url(small)));
    const warmMedian = percentile(warm, 50);
    const baselineMedian = percentile(baseline, 50);
    const apiMedian = percentile(api, 50);

    // Live: a long tabular run; the page idles, then the run trains at ~50 events/s.
    const live = await newOracleExperiment(runtime, 'live run', 3, { stepsPerEpoch: 100, warmupSteps: 200, treeBuildingSteps: 2000, mctSteps: 20000 });
    await trainPaced(runtime, live, { delayMs: 0, signal: new AbortController().signal, maxSteps: 300 });
    await page.goto(url(live));
    await page.waitForFunction(loaded, undefined, { timeout: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const idle = await frameRate(page, FPS_SECONDS);
    const stop = new AbortController();
    const driving = trainPaced(runtime, live, { intervalMs: STEP_INTERVAL_MS, signal: stop.signal });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = await frameRate(page, FPS_SECONDS);
    stop.abort();
    await driving;

    const rows = [
      { measurement: `first load, ${nodes.tree.nodes}-node tree, cold`, value: cold, unit: 'ms', baseline: baselineMedian, ratio: cold / baselineMedian },
      { measurement: `first load, ${nodes.tree.nodes}-node tree, warm (median of ${WARM_LOADS})`, value: warmMedian, unit: 'ms', baseline: baselineMedian, ratio: warmMedian / baselineMedian },
      { measurement: 'the same reads from Node, no browser (median)', value: apiMedian, unit: 'ms', baseline: warmMedian, ratio: apiMedian / warmMedian },
      { measurement: 'first load, 200-step tabular run, warm (baseline)', value: baselineMedian, unit: 'ms', baseline: baselineMedian, ratio: 1 },
      { measurement: 'frame rate, live page, no events (baseline)', value: idle.fps, unit: 'fps', baseline: idle.fps, ratio: 1 },
      { measurement: `frame rate, live page, ${(busy.events / FPS_SECONDS).toFixed(1)} events/s`, value: busy.fps, unit: 'fps', baseline: idle.fps, ratio: busy.fps / idle.fps },
      { measurement: 'frames over 50 ms: idle / live', value: `${idle.longFrames} / ${busy.longFrames}`, unit: 'frames', baseline: '', ratio: '' },
    ];
    printTable(rows.map((r) => ({ ...r, value: typeof r.value === 'number' ? Number(r.value.toFixed(1)) : r.value, baseline: typeof r.baseline === 'number' ? Number(r.baseline.toFixed(1)) : r.baseline, ratio: typeof r.ratio === 'number' ? Number(r.ratio.toFixed(2)) : r.ratio })));
    writeJson('bench/results/dashboard.json', {
      backend: BACKEND,
      nodes: nodes.tree.nodes,
      steps: STEPS,
      load: { coldMs: cold, warmMs: warm, apiMs: api, baselineMs: baseline, warmOverBaseline: warmMedian / baselineMedian },
      live: { idle, busy, eventsPerSecond: busy.events / FPS_SECONDS, fpsOverIdle: busy.fps / idle.fps },
    });
  } finally {
    await browser.close();
    await service.close();
  }
}

await main();
