import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** Prometheus metrics, counted from the live hub. */
@Module({
  imports: [ApiSharedModule, EventsModule],
  controllers: [MetricsController],
  providers: [MetricsService],
})
export class MetricsModule {}
