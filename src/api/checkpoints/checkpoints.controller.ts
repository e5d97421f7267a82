import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { checkpointInventory } from '../../experiments/checkpoint-inventory.js';
import { ExperimentService } from '../../experiments/experiment-service.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { ApiBodyFrom, ApiErrors, ApiExperimentParam, ApiQueryFrom } from '../shared/openapi.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { readQuerySchema, ZodValidationPipe } from '../shared/validation.js';
import { checkpointParamsSchema, pinBodySchema } from './requests.js';

type CheckpointParams = z.output<typeof checkpointParamsSchema>;

@ApiTags('checkpoints')
@Controller('experiments')
@UseGuards(ApiAuthGuard)
@UseInterceptors(StreamPositionInterceptor)
export class CheckpointsController {
  constructor(
    private readonly service: ExperimentService,
    private readonly reads: ExperimentReads,
  ) {}

  @Get(':id/checkpoints')
  @ApiExperimentParam()
  @ApiOperation({ summary: 'Every weight checkpoint saved, oldest first: size, sha256, verified-at, pinned, retained or pruned (and why); retained bytes; a failing write' })
  @ApiQueryFrom(readQuerySchema)
  @ApiErrors(400, 404, 409)
  list(@ExperimentId() id: string, @Query(new ZodValidationPipe(readQuerySchema)) query: z.output<typeof readQuerySchema>) {
    return this.reads.view(id, query, (view) => ({ experimentId: view.id, position: view.position, version: view.version, ...checkpointInventory(view.status) }));
  }

  @Post(':id/checkpoints/:step/pin')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiParam({ name: 'step', description: 'step of a retained checkpoint' })
  @ApiOperation({ summary: 'Pin a checkpoint: retention never deletes it until unpinned (CheckpointPinned; idempotent)' })
  @ApiBodyFrom(pinBodySchema)
  @ApiErrors(400, 401, 404)
  async pin(@Param(new ZodValidationPipe(checkpointParamsSchema)) { id, step }: CheckpointParams, @Body(new ZodValidationPipe(pinBodySchema)) body: z.output<typeof pinBodySchema>) {
    return { experimentId: id, step, ...(await this.service.pinCheckpoint(id, step, body.reason ?? 'pinned over HTTP')) };
  }

  @Delete(':id/checkpoints/:step/pin')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiParam({ name: 'step', description: 'step of a pinned checkpoint' })
  @ApiOperation({ summary: 'Unpin a checkpoint: the retention policy applies to it again (CheckpointUnpinned; idempotent)' })
  @ApiErrors(400, 401, 404)
  async unpin(@Param(new ZodValidationPipe(checkpointParamsSchema)) { id, step }: CheckpointParams) {
    return { experimentId: id, step, ...(await this.service.unpinCheckpoint(id, step, 'unpinned over HTTP')) };
  }
}
