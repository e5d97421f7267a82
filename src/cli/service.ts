import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { API_AUTH, type ApiAuth } from '../api/shared/auth.js';
import { installHttpDrain } from '../api/shared/drain.js';
import { configureHttpApi, DOCS_PATH } from '../api/shared/http.js';
import { LiveEvents } from '../api/events/live-events.js';
import { SEARCH_LAUNCHER } from '../api/search/search-launcher.js';
import { AppModule } from '../app.module.js';
import { DASHBOARD_DIR, dashboardBuilt } from '../dashboard/dashboard.module.js';
import type { AppConfig } from '../config.js';
import type { Database } from '../database/database.js';
import { openDatabase } from '../database/open-database.js';
import { createLogger, PinoNestLogger } from '../logging/logger.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { SupernetSearchLauncher } from './search-launcher.js';

export interface RunningService {
  readonly runtime: Runtime;
  readonly app: INestApplication | null;
  readonly url: string | null;
  readonly logger: Logger;
  /** aborted by the first SIGTERM or SIGINT: jobs stop after their current step */
  readonly stopping: AbortSignal;
  /** drains the HTTP side (see `drain.ts`), then closes the application and the database; idempotent */
  close(): Promise<void>;
}

/** How long running requests may take to finish after SIGTERM before their connections are cut. */
export const SHUTDOWN_GRACE_MS = 5_000;
/** After a signal, the process exits by this time even if something still holds it (exit code 1). */
export const SHUTDOWN_LIMIT_MS = 15_000;

/**
 * The first SIGTERM/SIGINT aborts `stopping` (the HTTP side drains, jobs finish their step and
 * close the service); a second one exits at once; a watchdog exits with 1 if the process is
 * still alive `SHUTDOWN_LIMIT_MS` later (something leaked a handle).
 */
function stopSignal(logger: Logger, onStop: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn({ signal: name }, 'second signal: exiting at once');
      process.exit(130);
    }
    logger.info({ signal: name }, 'shutting down: finishing running requests and steps');
    controller.abort();
    setTimeout(() => {
      logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    onStop();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}

/**
 * Opens (and migrates) the configured database and, unless `http` is false, serves the HTTP
 * API over the same runtime, so a job running in this process is queryable while it runs.
 */
export async function startService(
  config: AppConfig,
  options: { http?: boolean; waitForDatabase?: boolean; /** a database `connectDatabase` started opening (npm start) */ database?: Promise<Database> } = {},
): Promise<RunningService> {
  const logger = createLogger(config.logLevel);
  const settings = { ...config, postgres: options.waitForDatabase ? { waitForServer: true, onOutage: reportOutage } : undefined };
  const { database, migrations } = await openDatabase(settings, options.database);
  logger.info({ database: database.kind, location: database.location, migrations }, 'database ready');
  const runtime = createRuntime(database);
  if (options.http === false) {
    const stop = stopSignal(logger, () => undefined);
    return {
      runtime,
      app: null,
      url: null,
      logger,
      stopping: stop.signal,
      close: once(async () => {
        stop.dispose();
        await database.close();
      }),
    };
  }
  const launcher = { provide: SEARCH_LAUNCHER, useValue: new SupernetSearchLauncher(runtime.service, config, logger) };
  const app = await NestFactory.create(AppModule.create(config, runtime, [launcher]), { logger: new PinoNestLogger(logger) });
  // No Nest shutdown hooks: they would close the database under running requests and a
  // training step. The signal drains the HTTP side; `close` then closes the rest, in order.
  configureHttpApi(app, config);
  const drain = installHttpDrain(app);
  const drainHttp = () =>
    drain.drain({ graceMs: SHUTDOWN_GRACE_MS, endStreams: () => app.get(LiveEvents, { strict: false }).onModuleDestroy() }).then((result) => {
      logger.info({ waitedMs: Math.round(result.waitedMs), cutRequests: result.cut }, 'HTTP drained');
    });
  const stop = stopSignal(logger, () => void drainHttp());
  await app.listen(config.port, config.host);
  const url = `http://${config.host}:${(app.getHttpServer().address() as { port: number }).port}`;
  logger.info({ url }, 'mctnas service listening');
  console.log(`mctnas service listening on ${url} (database: ${database.kind} ${database.location}); API docs at ${url}/${DOCS_PATH}`);
  if (dashboardBuilt()) console.log(`dashboard: ${url}/`);
  else logger.warn({ dir: DASHBOARD_DIR }, 'the dashboard is not built (npm run build): only the API is served');
  const auth = app.get<ApiAuth>(API_AUTH);
  // The token is a secret: never printed (stdout ends up in logs), only where to read it.
  if (auth.source === 'generated') console.log(`generated an API token, stored in ${auth.file} (mode 0600): export MCTNAS_API_TOKEN=$(cat ${auth.file})`);
  else logger.info({ source: auth.source, file: auth.file, protectReads: auth.protectReads }, 'API token loaded');
  // Closing the app closes the database too (DatabaseModule's shutdown hook), after the drain.
  return {
    runtime,
    app,
    url,
    logger,
    stopping: stop.signal,
    close: once(async () => {
      await drainHttp();
      await app.close();
      stop.dispose();
    }),
  };
}

/** A worker waiting out a database outage says so (once when it starts, once when it ends). */
function reportOutage(event: { state: 'down'; error: string } | { state: 'up'; downForMs: number }): void {
  if (event.state === 'down') console.error(`database unavailable (${event.error}): waiting for it, retrying with backoff`);
  else console.error(`database available again after ${(event.downForMs / 1000).toFixed(1)} s: continuing`);
}

function once(work: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= work());
}
