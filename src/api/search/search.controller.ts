import { Body, Controller, Get, HttpCode, Inject, Optional, Post, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import type { EventData } from '../../events/catalog.js';
import { StreamStore } from '../../events/stream-store.js';
import { ExperimentNotFoundError } from '../../experiments/experiment-projections.js';
import { strategyNames } from '../../search/config.js';
import { SearchSpace } from '../../search-space/search-space.js';
import { whatIf } from '../../analysis/what-if.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { NoSearchLauncherError, SearchNotFoundError, UnprocessableValueError } from '../shared/errors.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { ApiErrors, ApiExperimentParam } from '../shared/openapi.js';
import { replaySchema, searchStartSchema } from './requests.js';
import { SEARCH_LAUNCHER, type SearchLauncher } from './search-launcher.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { readQuerySchema } from '../shared/validation.js';

@ApiTags('search')
@Controller('experiments/:id')
@UseGuards(ApiAuthGuard)
@UseInterceptors(StreamPositionInterceptor)
export class SearchController {
  constructor(
    private readonly reads: ExperimentReads,
    private readonly store: StreamStore,
    @Optional() @Inject(SEARCH_LAUNCHER) private readonly launcher: SearchLauncher | null,
  ) {}

  @Post('search')
  @HttpCode(202)
  @ApiExperimentParam()
  @ApiOperation({ summary: `Start the architecture search (${strategyNames.join(', ')}) on the attached trainer` })
  @ApiResponse({ status: 202, description: '{ experimentId, searchId }: follow it with GET /experiments/{id}/search or the event stream' })
  @ApiErrors(400, 401, 404, 409)
  async start(@ExperimentId() id: string, @Body({ schema: searchStartSchema }) body: z.output<typeof searchStartSchema>) {
    const position = await this.reads.view(id, {}, (view) => view.position);
    if (!this.launcher) throw new NoSearchLauncherError();
    const { searchId } = await this.launcher.start(id, body);
    return { experimentId: id, searchId, position };
  }

  @Get('search')
  @ApiExperimentParam()
  @ApiOperation({ summary: 'Each search: settings, candidates evaluated (top-1, top-5, loss, FLOPs, params), removals, result' })
  @ApiErrors(400, 404, 409)
  async results(@ExperimentId() id: string, @Query({ schema: readQuerySchema }) query: z.output<typeof readQuerySchema>) {
    return this.reads.view(id, query, (v) => ({ experimentId: id, position: v.position, version: v.version, searches: v.status.searchSummaries }));
  }

  @Post('replay')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'What-if: recompute the tree (and the search) under other hyperparameters or schedule; writes nothing',
    description: 'Returns the recomputed tree summary and its difference from the recorded one (nodes, G, Ltilde, top leaves, the search choice).',
  })
  @ApiErrors(400, 401, 404, 409, 422)
  async replay(@ExperimentId() id: string, @Body({ schema: replaySchema }) body: z.output<typeof replaySchema>) {
    if (body.at !== undefined) await this.reads.awaitPosition(body.at, 0);
    const events = await this.store.readStream(id, body.at !== undefined ? { toPosition: body.at } : {});
    const created = events[0];
    if (!created || created.type !== 'ExperimentCreated') throw new ExperimentNotFoundError(id);
    if (body.searchId !== undefined && !events.some((e) => e.type === 'SearchStarted' && (e.data as EventData<'SearchStarted'>).searchId === body.searchId)) {
      throw new SearchNotFoundError(id, body.searchId, body.at);
    }
    const space = SearchSpace.fromDefinition((created.data as EventData<'ExperimentCreated'>).searchSpace);
    let report;
    try {
      report = await whatIf(events, {
        space,
        hyperparameters: body.hyperparameters,
        schedule: body.schedule,
        searchId: body.searchId,
        nodeDiffLimit: body.nodeDiffLimit,
        topLeaves: body.topLeaves,
        skipPolicyAnalysis: body.skipPolicyAnalysis,
      });
    } catch (error) {
      // The recorded history replays fine under its own settings, so a range failure comes
      // from the alternative settings (e.g. a temperature so low every probability underflows).
      if (error instanceof RangeError) throw new UnprocessableValueError('body', `the what-if cannot be computed with these settings: ${error.message}`);
      throw error;
    }
    const last = events[events.length - 1]!;
    return { experimentId: id, position: last.position, version: last.streamVersion, at: body.at ?? null, report };
  }
}
