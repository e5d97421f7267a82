import { Body, Controller, Get, HttpCode, Post, Query, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { ExperimentView } from '../../experiments/experiment-projections.js';
import { createExperimentRequestSchema, ExperimentRequestError } from '../../experiments/experiment-request.js';
import { ExperimentService } from '../../experiments/experiment-service.js';
import { activeLease } from '../../experiments/experiment-status.js';
import { type ExperimentEntry, ExperimentIndex } from '../../experiments/ports.js';
import { totalTrainingSteps } from '../../tree/schedule.js';
import { requireTree } from '../../tree/state.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { RequestValidationError } from '../shared/errors.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { ApiErrors, ApiExperimentParam, ExperimentCommand } from '../shared/openapi.js';
import { DEFAULT_LIST_PAGE, listQuerySchema, MAX_LIST_PAGE, prioritySchema, reasonSchema } from './requests.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { DEFAULT_WAIT_MS, readQuerySchema } from '../shared/validation.js';

type ReadQuery = z.output<typeof readQuerySchema>;

@ApiTags('experiments')
@Controller('experiments')
@UseGuards(ApiAuthGuard)
@UseInterceptors(StreamPositionInterceptor)
export class ExperimentsController {
  constructor(
    private readonly service: ExperimentService,
    private readonly reads: ExperimentReads,
    private readonly index: ExperimentIndex,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create an experiment (search space, hyperparameters, schedule, FLOPs window, dataset, seed)' })
  @ApiResponse({ status: 201, description: '{ id, position, version }; Location: /experiments/{id}' })
  @ApiErrors(400, 401)
  async create(
    @Body({ schema: createExperimentRequestSchema }) body: z.output<typeof createExperimentRequestSchema>,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<{ id: string; position: number; version: number }> {
    try {
      // Shape errors were answered by the pipe; the service adds the semantic checks (a
      // buildable search space, a non-empty schedule), reported under `body.` too.
      const created = await this.service.create(body);
      response.setHeader('Location', `/experiments/${encodeURIComponent(created.id)}`);
      return { ...created, version: 1 };
    } catch (error) {
      if (error instanceof ExperimentRequestError) throw new RequestValidationError(`body.${error.field}`, error.message.slice(error.field.length + 2));
      throw error;
    }
  }

  @Get()
  @ApiOperation({
    summary: 'List experiments, oldest first, paged; `position` is the newest position in the database',
    description: `At most \`limit\` (default ${DEFAULT_LIST_PAGE}, at most ${MAX_LIST_PAGE}) experiments created after position \`after\`; pass \`next\` as \`after\` for the next page (null: no more).`,
  })
  @ApiErrors(400, 409)
  async list(@Query({ schema: listQuerySchema }) query: z.output<typeof listQuerySchema>): Promise<{ position: number; experiments: ExperimentEntry[]; next: number | null }> {
    if (query.minPosition !== undefined) await this.reads.awaitPosition(query.minPosition, query.waitMs ?? DEFAULT_WAIT_MS);
    const position = await this.reads.headPosition();
    const limit = query.limit ?? DEFAULT_LIST_PAGE;
    const page = await this.index.list({ after: query.after ?? 0, limit });
    const experiments = page.filter((e) => e.position <= position);
    return { position, experiments, next: page.length === limit ? page.at(-1)!.position : null };
  }

  @Get(':id')
  @ApiExperimentParam()
  @ApiOperation({ summary: 'Status, phase, step, backend, lease, newest checkpoint and settings, now or as of `at`' })
  @ApiErrors(400, 404, 409)
  get(@ExperimentId() id: string, @Query({ schema: readQuerySchema }) query: ReadQuery) {
    const now = new Date();
    return this.reads.view(id, query, (view) => describeExperiment(view, now));
  }

  @ExperimentCommand({ route: ':id/pause', status: 200, summary: 'Pause: ask/tell refuse new steps until resumed (idempotent)', errors: [400, 401, 404, 409] })
  async pause(@ExperimentId() id: string, @Body({ schema: reasonSchema }) body: z.output<typeof reasonSchema>) {
    return { experimentId: id, ...(await this.service.pause(id, body.reason ?? 'paused over HTTP')) };
  }

  @ExperimentCommand({ route: ':id/resume', status: 200, summary: 'Resume a paused experiment (idempotent)', errors: [400, 401, 404, 409] })
  async resume(@ExperimentId() id: string, @Body({ schema: reasonSchema }) body: z.output<typeof reasonSchema>) {
    return { experimentId: id, ...(await this.service.resume(id, body.reason ?? 'resumed over HTTP')) };
  }

  @ExperimentCommand({ route: ':id/priority', status: 200, summary: 'Set the order pool workers claim it in: higher first, then oldest first (ExperimentPrioritized; idempotent)', errors: [400, 401, 404] })
  async prioritize(@ExperimentId() id: string, @Body({ schema: prioritySchema }) body: z.output<typeof prioritySchema>) {
    return { experimentId: id, ...(await this.service.prioritize(id, body.priority, body.reason ?? 'set over HTTP')) };
  }
}

/** The status view of GET /experiments/:id (plain data; safe to build on the live view). */
export function describeExperiment(view: ExperimentView, now: Date) {
  const { config, tree } = requireTree(view.tree);
  const state = view.tree;
  const status = view.status;
  const total = totalTrainingSteps(config.schedule);
  const lease = status.lease;
  const experiment = config.experiment;
  return {
    id: view.id,
    position: view.position,
    version: view.version,
    name: status.name,
    lifecycle: status.lifecycle,
    priority: status.priority,
    phase: state.phase,
    step: state.step,
    lastRewardedStep: state.lastRewardedStep,
    /** the step a trainer works on next; null once training is over */
    nextStep: state.lastRewardedStep + 1 < total ? state.lastRewardedStep + 1 : null,
    /** a step sampled but not yet rewarded (ask was answered, tell not yet) */
    pendingStep: state.lastSampled && state.lastSampled.step > state.lastRewardedStep ? state.lastSampled.step : null,
    totalTrainingSteps: total,
    movingAverageLoss: state.movingAverageLoss,
    backend: status.backend,
    // The lease id is the worker's credential for ask/tell: it is not shown.
    lease: lease ? { workerId: lease.workerId, expiresAt: lease.expiresAt, ttlMs: lease.ttlMs, active: activeLease(status, now) !== null } : null,
    newestCheckpoint: status.retainedCheckpoints.at(-1) ?? null,
    checkpoints: status.retainedCheckpoints.length,
    checkpointFailure: status.checkpointFailure,
    pausedReason: status.pausedReason,
    failure: status.failure,
    search: state.search,
    completedSearch: status.completedSearch,
    tree: { nodes: tree.size, rootVisits: tree.n[0]! },
    config: {
      searchSpace: { name: experiment.searchSpace.name, layers: config.opCounts.length, opCounts: [...config.opCounts] },
      hyperparameters: config.hyperparameters,
      schedule: config.schedule,
      flopsWindow: config.flopsWindow,
      dataset: experiment.dataset,
      training: experiment.training,
      search: experiment.search,
      seed: config.seed,
    },
  };
}
