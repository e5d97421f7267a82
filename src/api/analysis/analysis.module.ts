import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { AnalysisController } from './analysis.controller.js';

/** Analyses recorded on an experiment: the supernet's ranking against stand-alone tables. */
@Module({
  imports: [ApiSharedModule],
  controllers: [AnalysisController],
})
export class AnalysisModule {}
