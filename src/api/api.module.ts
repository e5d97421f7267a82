import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import type { AppConfig } from '../config.js';
import { AuditQueries } from './audit-queries.js';
import { API_AUTH, ApiAuthGuard, resolveApiAuth } from './auth.js';
import { EventsController } from './events.controller.js';
import { ApiExceptionFilter } from './exception.filter.js';
import { ExperimentReads } from './experiment-reads.js';
import { ExperimentsController } from './experiments.controller.js';
import { LiveEvents } from './live-events.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.js';
import { SearchController } from './search.controller.js';
import { TreeController } from './tree.controller.js';
import { WorkersController } from './workers.controller.js';

/**
 * The HTTP API over the experiments module (event store, projections, commands). The token
 * guard is per controller, so /health stays open for probes; the exception filter is global
 * so every error, ours or the framework's, gets the same JSON shape.
 */
@Module({
  controllers: [ExperimentsController, TreeController, EventsController, WorkersController, SearchController, MetricsController],
  providers: [
    { provide: API_AUTH, useFactory: (config: ConfigService) => resolveApiAuth(config.getOrThrow<AppConfig>('app')), inject: [ConfigService] },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    ApiAuthGuard,
    ExperimentReads,
    AuditQueries,
    LiveEvents,
    MetricsService,
  ],
  exports: [API_AUTH, ApiAuthGuard, ExperimentReads, LiveEvents],
})
export class ApiModule {}
