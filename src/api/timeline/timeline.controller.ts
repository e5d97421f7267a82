import { Controller, Get, Param, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { TimelineReadModel } from '../../experiments/timeline-read-model.js';
import { DomainError } from '../../kernel/domain-error.js';
import { totalTrainingSteps } from '../../tree/schedule.js';
import { requireTree } from '../../tree/state.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { ApiErrors, ApiExperimentParam, ApiQueryFrom } from '../shared/openapi.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { asOfQuery, positionQuery, queryInteger, ZodValidationPipe } from '../shared/validation.js';

const DEFAULT_POINTS = 1000;
const DEFAULT_FRAMES = 200;

export const timelineQuerySchema = z
  .object({
    /** first step (default 0) */
    fromStep: positionQuery.optional(),
    /** last step (default: the last rewarded step) */
    toStep: positionQuery.optional(),
    /** most points (buckets of consecutive steps are averaged above it) */
    points: queryInteger(1, 10_000).optional(),
    ...asOfQuery,
  })
  .strict();

const stepSchema = queryInteger(0, Number.MAX_SAFE_INTEGER);
const stepQuerySchema = z.object(asOfQuery).strict();

type TimelineQuery = z.output<typeof timelineQuerySchema>;

/**
 * The run timeline for dashboards and plots: loss, L̃ and Q per step (bucketed), phase bands,
 * checkpoints, sampling probabilities over time, and one step in full. Read-only; each answer
 * states the stream position it reflects, and `at` reads as of a past position like every read.
 */
@ApiTags('timeline')
@Controller('experiments/:id/timeline')
@UseGuards(ApiAuthGuard)
@UseInterceptors(StreamPositionInterceptor)
export class TimelineController {
  constructor(
    private readonly reads: ExperimentReads,
    private readonly timeline: TimelineReadModel,
  ) {}

  @Get()
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'Training loss, moving-average loss and reward per step (at most `points` buckets), phase bands and checkpoints',
    description: 'Steps are averaged into equal buckets of `bucket` steps when the range holds more than `points` (min/max of the loss kept). Zoom by asking for a narrower `fromStep`..`toStep`.',
  })
  @ApiQueryFrom(timelineQuerySchema)
  @ApiErrors(400, 404, 409)
  async series(@ExperimentId() id: string, @Query(new ZodValidationPipe(timelineQuerySchema)) query: TimelineQuery) {
    const head = await this.head(id, query);
    const range = this.range(head, query, DEFAULT_POINTS);
    const [series, marks] = await Promise.all([this.timeline.series(id, head.position, range), this.timeline.marks(id, head.position)]);
    return { ...head, ...range, series, ...marks };
  }

  @Get('heatmaps')
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'Sampling probabilities per layer and op over time: every `stride`-th sampled step in the range (at most `points` frames)',
  })
  @ApiQueryFrom(timelineQuerySchema)
  @ApiErrors(400, 404, 409)
  async heatmaps(@ExperimentId() id: string, @Query(new ZodValidationPipe(timelineQuerySchema)) query: TimelineQuery) {
    const head = await this.head(id, query);
    const range = this.range({ ...head, lastRewardedStep: head.lastSampledStep }, query, DEFAULT_FRAMES);
    return { ...head, ...range, frames: await this.timeline.probabilityFrames(id, head.position, range) };
  }

  @Get('steps/:step')
  @ApiExperimentParam()
  @ApiParam({ name: 'step', description: 'training step' })
  @ApiOperation({ summary: 'One training step: the sample (architecture, probabilities, FLOPs), its reward, the visit counts it changed, the checkpoint current then' })
  @ApiQueryFrom(stepQuerySchema)
  @ApiErrors(400, 404, 409)
  async step(@ExperimentId() id: string, @Param('step', new ZodValidationPipe(stepSchema)) step: number, @Query(new ZodValidationPipe(stepQuerySchema)) query: z.output<typeof stepQuerySchema>) {
    const head = await this.head(id, query);
    const record = await this.timeline.step(id, head.position, step);
    if (!record) throw new DomainError('not-found', 'StepNotFound', `step ${step} was not sampled at position ${head.position}`, 'param.step');
    return { ...head, ...record };
  }

  private head(id: string, query: { at?: number; minPosition?: number; waitMs?: number }) {
    return this.reads.view(id, query, (view) => {
      const { config } = requireTree(view.tree);
      return {
        experimentId: view.id,
        position: view.position,
        version: view.version,
        at: query.at ?? null,
        phase: view.tree.phase,
        lastRewardedStep: view.tree.lastRewardedStep,
        lastSampledStep: view.tree.lastSampled?.step ?? view.tree.lastRewardedStep,
        totalTrainingSteps: totalTrainingSteps(config.schedule),
      };
    });
  }

  private range(head: { lastRewardedStep: number }, query: TimelineQuery, defaultPoints: number) {
    const fromStep = query.fromStep ?? 0;
    const toStep = Math.min(query.toStep ?? head.lastRewardedStep, head.lastRewardedStep);
    if (query.fromStep !== undefined && query.toStep !== undefined && query.toStep < query.fromStep) {
      throw new DomainError('invalid', 'RequestValidationError', `toStep ${query.toStep} is before fromStep ${query.fromStep}`, 'query.toStep');
    }
    return { fromStep, toStep, points: query.points ?? defaultPoints };
  }
}
