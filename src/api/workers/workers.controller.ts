import { Body, Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ExperimentService } from '../../experiments/experiment-service.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { ApiBodyFrom, ApiErrors, ApiExperimentParam } from '../shared/openapi.js';
import { acquireLeaseSchema, leaseParamsSchema, leaseSchema, tellSchema } from './requests.js';
import { ZodValidationPipe } from '../shared/validation.js';

const DEFAULT_TTL_MS = 30_000;

/**
 * The ask/tell protocol for external trainers (e.g. a PyTorch job): acquire the experiment's
 * lease, then loop ask (the step's architecture) → train → tell (its loss), heartbeating
 * within the lease's TTL. Asking again before telling returns the same step; telling a
 * recorded step again with the same loss returns the recorded reward (`duplicate: true`).
 */
@ApiTags('ask/tell')
@Controller('experiments/:id')
@UseGuards(ApiAuthGuard)
export class WorkersController {
  constructor(private readonly service: ExperimentService) {}

  @Post('lease')
  @HttpCode(201)
  @ApiExperimentParam()
  @ApiOperation({ summary: 'Acquire the experiment lease for a worker (the same worker re-acquiring extends it); an expired lease is taken over' })
  @ApiBodyFrom(acquireLeaseSchema)
  @ApiErrors(400, 401, 404, 409)
  async acquire(@ExperimentId() id: string, @Body(new ZodValidationPipe(acquireLeaseSchema)) body: z.output<typeof acquireLeaseSchema>) {
    return { experimentId: id, ...(await this.service.acquireLease(id, body.workerId, body.ttlMs ?? DEFAULT_TTL_MS)) };
  }

  @Post('lease/heartbeat')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiOperation({ summary: 'Extend the lease by its TTL' })
  @ApiBodyFrom(leaseSchema)
  @ApiErrors(400, 401, 404, 409)
  async heartbeat(@ExperimentId() id: string, @Body(new ZodValidationPipe(leaseSchema)) body: z.output<typeof leaseSchema>) {
    return { experimentId: id, ...(await this.service.heartbeat(id, body.leaseId)) };
  }

  @Delete('lease/:leaseId')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiParam({ name: 'leaseId' })
  @ApiOperation({ summary: 'Release the lease (idempotent: releasing a lease no longer in force writes nothing)' })
  @ApiErrors(400, 401, 404)
  async release(@Param(new ZodValidationPipe(leaseParamsSchema)) { id, leaseId }: z.output<typeof leaseParamsSchema>) {
    return { experimentId: id, ...(await this.service.releaseLease(id, leaseId)) };
  }

  @Post('ask')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiOperation({ summary: 'The next training step and its architecture (`done: true` once training is over)' })
  @ApiBodyFrom(leaseSchema)
  @ApiErrors(400, 401, 404, 409)
  async ask(@ExperimentId() id: string, @Body(new ZodValidationPipe(leaseSchema)) body: z.output<typeof leaseSchema>) {
    const sample = await this.service.ask(id, body.leaseId);
    return sample ? { experimentId: id, done: false, ...sample } : { experimentId: id, done: true };
  }

  @Post('tell')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiOperation({ summary: "Record the pending step's training loss; returns Ltilde and the reward Q (idempotent per step)" })
  @ApiBodyFrom(tellSchema)
  @ApiErrors(400, 401, 404, 409, 422)
  async tell(@ExperimentId() id: string, @Body(new ZodValidationPipe(tellSchema)) body: z.output<typeof tellSchema>) {
    return { experimentId: id, ...(await this.service.tell(id, body.leaseId, body.step, body.loss)) };
  }
}
