import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { CheckpointsController } from './checkpoints.controller.js';

/** An experiment's weight checkpoints: inventory, pin and unpin. */
@Module({
  imports: [ApiSharedModule],
  controllers: [CheckpointsController],
})
export class CheckpointsModule {}
