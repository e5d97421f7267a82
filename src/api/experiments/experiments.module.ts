import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { ExperimentsController } from './experiments.controller.js';

/** Create, list, read, pause and resume experiments (checkpoints: api/checkpoints). */
@Module({
  imports: [ApiSharedModule],
  controllers: [ExperimentsController],
})
export class ExperimentsModule {}
