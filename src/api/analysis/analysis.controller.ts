import { Controller, Get, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { ApiErrors, ApiExperimentParam } from '../shared/openapi.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { readQuerySchema } from '../shared/validation.js';

@ApiTags('analysis')
@Controller('experiments/:id')
@UseGuards(ApiAuthGuard)
@UseInterceptors(StreamPositionInterceptor)
export class AnalysisController {
  constructor(private readonly reads: ExperimentReads) {}

  @Get('rankings')
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'Ranking analyses of the supernet against stand-alone tables (RankingAnalysisRecorded), oldest first',
    description:
      'Each: the table, the step the supernet was trained to, how it was evaluated, every (architecture, stand-alone top-1, supernet top-1) pair and the report recorded with them: Kendall tau-b, Spearman rho (jackknife standard errors), the spread of tau for unrelated rankings, top-k overlap.',
  })
  @ApiErrors(400, 404, 409)
  list(@ExperimentId() id: string, @Query({ schema: readQuerySchema }) query: z.output<typeof readQuerySchema>) {
    return this.reads.view(id, query, (v) => ({ experimentId: id, position: v.position, version: v.version, analyses: v.status.rankingAnalyses }));
  }
}
