import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { API_AUTH, type ApiAuth } from '../api/shared/auth.js';
import { configureHttpApi, DOCS_PATH } from '../api/shared/http.js';
import { SEARCH_LAUNCHER } from '../api/search/search-launcher.js';
import { AppModule } from '../app.module.js';
import { DASHBOARD_DIR, dashboardBuilt } from '../dashboard/dashboard.module.js';
import type { AppConfig } from '../config.js';
import { openDatabase } from '../database/open-database.js';
import { createLogger, PinoNestLogger } from '../logging/logger.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { SupernetSearchLauncher } from './search-launcher.js';

export interface RunningService {
  readonly runtime: Runtime;
  readonly app: INestApplication | null;
  readonly url: string | null;
  readonly logger: Logger;
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the configured database and, unless `http` is false, serves the HTTP
 * API over the same runtime, so a job running in this process is queryable while it runs.
 */
export async function startService(config: AppConfig, options: { http?: boolean } = {}): Promise<RunningService> {
  const logger = createLogger(config.logLevel);
  const { database, migrations } = await openDatabase(config);
  logger.info({ database: database.kind, location: database.location, migrations }, 'database ready');
  const runtime = createRuntime(database);
  if (options.http === false) {
    return { runtime, app: null, url: null, logger, close: () => database.close() };
  }
  const launcher = { provide: SEARCH_LAUNCHER, useValue: new SupernetSearchLauncher(runtime.service, config, logger) };
  const app = await NestFactory.create(AppModule.create(config, runtime, [launcher]), { logger: new PinoNestLogger(logger) });
  app.enableShutdownHooks();
  configureHttpApi(app, config);
  await app.listen(config.port, config.host);
  const url = `http://${config.host}:${(app.getHttpServer().address() as { port: number }).port}`;
  logger.info({ url }, 'mctnas service listening');
  console.log(`mctnas service listening on ${url} (database: ${database.kind} ${database.location}); API docs at ${url}/${DOCS_PATH}`);
  if (dashboardBuilt()) console.log(`dashboard: ${url}/`);
  else logger.warn({ dir: DASHBOARD_DIR }, 'the dashboard is not built (npm run build): only the API is served');
  const auth = app.get<ApiAuth>(API_AUTH);
  // Printed once, to the console only (not the structured log): the token is a secret.
  if (auth.source === 'generated') console.log(`generated API token (stored in ${auth.file}): ${auth.token}`);
  else logger.info({ source: auth.source, file: auth.file, protectReads: auth.protectReads }, 'API token loaded');
  // Closing the app closes the database too (DatabaseModule's shutdown hook).
  return { runtime, app, url, logger, close: () => app.close() };
}
