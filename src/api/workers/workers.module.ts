import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { WorkersController } from './workers.controller.js';

/** The ask/tell protocol for external trainers: lease, heartbeat, ask, tell, release. */
@Module({
  imports: [ApiSharedModule],
  controllers: [WorkersController],
})
export class WorkersModule {}
