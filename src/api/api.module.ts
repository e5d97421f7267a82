import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AnalysisModule } from './analysis/analysis.module.js';
import { CheckpointsModule } from './checkpoints/checkpoints.module.js';
import { EventsModule } from './events/events.module.js';
import { ExperimentsModule } from './experiments/experiments.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { SearchModule } from './search/search.module.js';
import { ApiSharedModule } from './shared/api-shared.module.js';
import { ApiExceptionFilter } from './shared/exception.filter.js';
import { SchemaValidationPipe } from './shared/validation.js';
import { TimelineModule } from './timeline/timeline.module.js';
import { TreeModule } from './tree/tree.module.js';
import { WorkersModule } from './workers/workers.module.js';

/**
 * The HTTP API over the experiments module (event store, projections, commands), one module
 * per context. The token guard is per controller, so /health stays open for probes; the
 * exception filter is global so every error, ours or the framework's, gets the same JSON shape;
 * the validation pipe is global and checks every request part declared with a zod schema.
 */
@Module({
  imports: [ApiSharedModule, ExperimentsModule, CheckpointsModule, TreeModule, EventsModule, WorkersModule, SearchModule, AnalysisModule, MetricsModule, TimelineModule],
  providers: [
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    { provide: APP_PIPE, useClass: SchemaValidationPipe },
  ],
  exports: [ApiSharedModule, EventsModule],
})
export class ApiModule {}
