import { Module } from '@nestjs/common';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../database/database.module.js';
import { TimelineReadModel } from '../../experiments/timeline-read-model.js';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { PresetsController } from './presets.controller.js';
import { TimelineController } from './timeline.controller.js';

/** Read endpoints for dashboards: the run timeline and the creation presets. */
@Module({
  imports: [ApiSharedModule],
  controllers: [TimelineController, PresetsController],
  providers: [{ provide: TimelineReadModel, useFactory: (database: Database) => new TimelineReadModel(database), inject: [DATABASE] }],
})
export class TimelineModule {}
