import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { PresetsController } from './presets.controller.js';
import { TimelineController } from './timeline.controller.js';

/** Read endpoints for dashboards: the run timeline (the TimelineReadModel port, from the runtime) and the creation presets. */
@Module({
  imports: [ApiSharedModule],
  controllers: [TimelineController, PresetsController],
})
export class TimelineModule {}
