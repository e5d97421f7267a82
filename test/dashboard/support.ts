/**
 * The dashboard harness shared by the browser tests, `npm run screenshots` and
 * `npm run bench:dashboard`: the real service (AppModule over a real database, listening on a
 * free port), Debian's chromium driven by playwright-core, tabular NAS-Bench-Macro experiments
 * trained by the oracle through the real ask/tell commands, and a page watcher that records
 * every failed request and console error.
 */
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { configureHttpApi } from '../../src/api/shared/http.js';
import { AppModule } from '../../src/app.module.js';
import type { AppConfig } from '../../src/config.js';
import type { Database } from '../../src/database/database.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createOracleExperiment, oracleFor, runOracleExperiment } from '../../src/tabular/oracle-experiment.js';
import { type AccuracyTable, loadNasBenchMacro } from '../../src/tabular/table.js';
import { requireTree } from '../../src/tree/state.js';
import { nasBenchMacroJson } from '../support/paths.js';

export const TOKEN = 'dashboard-token-0123456789';

/** Enters the token, then starts a what-if replay with beta 0.5 and C1 1 (the summary appears when it ends). */
export async function startWhatIfReplay(page: Page): Promise<void> {
  await page.getByTestId('set-token').click();
  await page.getByTestId('token').fill(TOKEN);
  await page.getByTestId('token').press('Enter');
  await page.getByTestId('whatif-beta').fill('0.5');
  await page.getByTestId('whatif-c1').fill('1');
  await page.getByTestId('whatif-run').click();
}

export interface DashboardService {
  readonly url: string;
  readonly runtime: Runtime;
  readonly app: INestApplication;
  close(): Promise<void>;
}

/**
 * The whole HTTP application (API + dashboard) over `runtime`, on a free port. Closing it closes
 * the database unless `sharesDatabase` (a second service over the same runtime).
 */
export async function serveDashboard(runtime: Runtime, overrides: Partial<AppConfig> = {}, sharesDatabase = false): Promise<DashboardService> {
  const config: AppConfig = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: null,
    dataDir: mkdtempSync(join(tmpdir(), 'mctnas-dash-')),
    logLevel: 'silent',
    workerId: null,
    apiToken: TOKEN,
    protectReads: false,
    bodyLimitBytes: 1024 * 1024,
    ...overrides,
  };
  if (!runtime.database) throw new Error('the dashboard service needs a runtime over a database');
  const database = sharesDatabase
    ? new Proxy(runtime.database, {
        get: (target, key) => {
          if (key === 'close') return async () => undefined;
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      })
    : runtime.database;
  const app = await NestFactory.create(AppModule.create(config, { ...runtime, database }), { logger: false });
  configureHttpApi(app, config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, runtime, app, close: () => app.close() };
}

export function runtimeOver(database: Database): Runtime {
  return createRuntime(database);
}

/** Debian's chromium (apt-get install chromium), headless; Playwright cannot download browsers here. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Every failed request (status >= 400 or a network error) and console error of a page. */
export interface PageProblems {
  readonly failures: string[];
  readonly errors: string[];
}

export function watchPage(page: Page, allowed: (url: string, status: number) => boolean = () => false): PageProblems {
  const problems: PageProblems = { failures: [], errors: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium reports an HTTP error answer on the console too; those are judged by status below.
    if (/Failed to load resource: the server responded with a status of/.test(message.text())) return;
    problems.errors.push(message.text());
  });
  page.on('pageerror', (error) => problems.errors.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400 && !allowed(response.url(), response.status())) problems.failures.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? 'failed';
    // A navigation or reload cancels what is in flight (the live stream, a poll): the browser
    // aborted it, the service did not fail it.
    if (failure.includes('ERR_ABORTED')) return;
    problems.failures.push(`${failure} ${request.method()} ${request.url()}`);
  });
  return problems;
}

let table: AccuracyTable | null = null;
export function nasBenchMacro(): AccuracyTable {
  table ??= loadNasBenchMacro(nasBenchMacroJson);
  return table;
}

export const SMALL_SCHEDULE = { stepsPerEpoch: 10, warmupSteps: 20, treeBuildingSteps: 40, mctSteps: 140 };

/** A whole tabular experiment (training, then a hierarchical and a random search). */
export async function trainedOracleExperiment(runtime: Runtime, name: string, seed = 1): Promise<string> {
  const id = await createOracleExperiment(runtime.service, nasBenchMacro(), { schedule: SMALL_SCHEDULE, seed, name, search: { strategy: 'hierarchical', candidates: 8, topK: 4 } });
  await runOracleExperiment(runtime.service, nasBenchMacro(), id, [
    { strategy: 'hierarchical', candidates: 8 },
    { strategy: 'random', candidates: 4 },
  ], { leaseTtlMs: 600_000 });
  return id;
}

/**
 * Trains a tabular experiment step by step through ask/tell, paced, until `signal`
 * aborts or training ends: a live run to watch.
 */
export async function trainPaced(runtime: Runtime, id: string, options: { delayMs?: number; intervalMs?: number; signal: AbortSignal; maxSteps?: number }): Promise<number> {
  const created = requireTree((await runtime.projections.current(id)).tree).config.experiment;
  const oracle = oracleFor(nasBenchMacro(), created);
  const lease = await runtime.service.acquireLease(id, 'paced-oracle', 600_000);
  let steps = 0;
  // intervalMs: one step every intervalMs from the start (a fixed rate), else delayMs after each.
  let next = performance.now();
  while (!options.signal.aborted && steps < (options.maxSteps ?? Infinity)) {
    const sample = await runtime.service.ask(id, lease.leaseId);
    if (!sample) break;
    await runtime.service.tell(id, lease.leaseId, sample.step, await oracle.trainStep(sample.step, sample.architecture));
    steps++;
    next += options.intervalMs ?? 0;
    const wait = options.intervalMs !== undefined ? next - performance.now() : (options.delayMs ?? 0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return steps;
}

export async function newOracleExperiment(runtime: Runtime, name: string, seed = 2, schedule = SMALL_SCHEDULE): Promise<string> {
  return createOracleExperiment(runtime.service, nasBenchMacro(), { schedule, seed, name });
}
