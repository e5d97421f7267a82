import { Body, Controller, Delete, HttpCode, Param, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ExperimentService } from '../../experiments/experiment-service.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { ApiErrors, ApiExperimentParam, ExperimentCommand } from '../shared/openapi.js';
import { acquireLeaseSchema, leaseParamsSchema, leaseSchema, tellSchema } from './requests.js';

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

  @ExperimentCommand({ route: 'lease', status: 201, summary: 'Acquire the experiment lease for a worker (the same worker re-acquiring extends it); an expired lease is taken over', errors: [400, 401, 404, 409] })
  async acquire(@ExperimentId() id: string, @Body({ schema: acquireLeaseSchema }) body: z.output<typeof acquireLeaseSchema>) {
    return { experimentId: id, ...(await this.service.acquireLease(id, body.workerId, body.ttlMs ?? DEFAULT_TTL_MS)) };
  }

  @ExperimentCommand({ route: 'lease/heartbeat', status: 200, summary: 'Extend the lease by its TTL', errors: [400, 401, 404, 409] })
  async heartbeat(@ExperimentId() id: string, @Body({ schema: leaseSchema }) body: z.output<typeof leaseSchema>) {
    return { experimentId: id, ...(await this.service.heartbeat(id, body.leaseId)) };
  }

  @Delete('lease/:leaseId')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiParam({ name: 'leaseId' })
  @ApiOperation({ summary: 'Release the lease (idempotent: releasing a lease no longer in force writes nothing)' })
  @ApiErrors(400, 401, 404)
  async release(@Param({ schema: leaseParamsSchema }) { id, leaseId }: z.output<typeof leaseParamsSchema>) {
    return { experimentId: id, ...(await this.service.releaseLease(id, leaseId)) };
  }

  @ExperimentCommand({ route: 'ask', status: 200, summary: 'The next training step and its architecture (`done: true` once training is over)', errors: [400, 401, 404, 409] })
  async ask(@ExperimentId() id: string, @Body({ schema: leaseSchema }) body: z.output<typeof leaseSchema>) {
    const sample = await this.service.ask(id, body.leaseId);
    return sample ? { experimentId: id, done: false, ...sample } : { experimentId: id, done: true };
  }

  @ExperimentCommand({ route: 'tell', status: 200, summary: "Record the pending step's training loss; returns Ltilde and the reward Q (idempotent per step)", errors: [400, 401, 404, 409, 422] })
  async tell(@ExperimentId() id: string, @Body({ schema: tellSchema }) body: z.output<typeof tellSchema>) {
    return { experimentId: id, ...(await this.service.tell(id, body.leaseId, body.step, body.loss)) };
  }
}
