import { Body, Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ExperimentService } from '../../experiments/experiment-service.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { ApiErrors, ApiExperimentParam, ExperimentCommand } from '../shared/openapi.js';
import { askNext, tellSearch } from '../../experiments/remote-search.js';
import { acquireLeaseSchema, askSchema, checkpointRecordSchema, leaseParamsSchema, leaseSchema, searchTellSchema, tellSchema } from './requests.js';

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
  @ApiOperation({ summary: 'Release the lease (idempotent: releasing a lease no longer in force writes nothing; a lease id the experiment never issued is a 404)' })
  @ApiErrors(400, 401, 404)
  async release(@Param({ schema: leaseParamsSchema }) { id, leaseId }: z.output<typeof leaseParamsSchema>) {
    return { experimentId: id, ...(await this.service.releaseLease(id, leaseId)) };
  }

  @Post('ask')
  @HttpCode(200)
  @ApiExperimentParam()
  @ApiOperation({
    summary: "What the experiment needs next: a training step's architecture (`kind: 'train'`), then the search's questions (`kind: 'validation-batch'` or `'full-validation'`, answered with POST search/tell), then `done: true` with the result",
    description: 'Asking again before telling returns the same question. With `search: false`, answers `done: true` once training is over (the trainer runs the search itself).',
  })
  @ApiErrors(400, 401, 404, 409, 422)
  async ask(@ExperimentId() id: string, @Body({ schema: askSchema }) body: z.output<typeof askSchema>) {
    const next = await askNext(this.service, id, body.leaseId, { search: body.search });
    if (!next.done) return 'sample' in next ? { experimentId: id, done: false, kind: 'train', ...next.sample } : { experimentId: id, done: false, ...next.question, position: next.position };
    return next.position === null ? { experimentId: id, done: true } : { experimentId: id, done: true, result: next.result, position: next.position };
  }

  @ExperimentCommand({ route: 'checkpoints', status: 201, summary: 'Record a weight checkpoint the lease holder saved after a rewarded step (CheckpointSaved; idempotent per step)', errors: [400, 401, 404, 409, 422] })
  async checkpoint(@ExperimentId() id: string, @Body({ schema: checkpointRecordSchema }) body: z.output<typeof checkpointRecordSchema>) {
    const { leaseId, epoch, ...rest } = body;
    return { experimentId: id, ...(await this.service.recordCheckpoint(id, leaseId, { ...rest, epoch: epoch ?? 0 })) };
  }

  @ExperimentCommand({ route: 'search/tell', status: 200, summary: "Record the answer to the search's pending question (idempotent); returns the next question or the result as `next`", errors: [400, 401, 404, 409, 422] })
  async tellSearch(@ExperimentId() id: string, @Body({ schema: searchTellSchema }) body: z.output<typeof searchTellSchema>) {
    const { leaseId, ...rest } = body;
    const answer = rest.kind === 'validation-batch' ? rest : { ...rest, top5: rest.top5 ?? null };
    const told = await tellSearch(this.service, id, leaseId, answer);
    const next = told.next.done ? { experimentId: id, done: true, result: told.next.result, position: told.next.position } : { experimentId: id, done: false, ...told.next.question, position: told.next.position };
    return { experimentId: id, duplicate: told.duplicate, position: told.position, next };
  }

  @ExperimentCommand({
    route: 'tell',
    status: 200,
    summary: "Record the pending step's training loss; returns Ltilde and the reward Q (idempotent per step). With `next: true`, the next step's sample is decided and committed with the reward in one append and answered as `next` (what `ask` would answer; null once training is over)",
    errors: [400, 401, 404, 409, 422],
  })
  async tell(@ExperimentId() id: string, @Body({ schema: tellSchema }) body: z.output<typeof tellSchema>) {
    if (!body.next) return { experimentId: id, ...(await this.service.tell(id, body.leaseId, body.step, body.loss)) };
    const { next, ...reward } = await this.service.tellAndAsk(id, body.leaseId, body.step, body.loss);
    return { experimentId: id, ...reward, next: next && { experimentId: id, done: false, kind: 'train', ...next } };
  }
}
