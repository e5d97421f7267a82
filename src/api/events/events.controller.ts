import { Controller, Get, Headers, type MessageEvent, Query, Sse, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import type { z } from 'zod';
import { EventStore } from '../../events/event-store.js';
import { START } from '../../events/stored-event.js';
import { ExperimentNotFoundError } from '../../experiments/experiment-projections.js';
import { apiEventOf, AuditQueries } from '../shared/audit-queries.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { RequestValidationError } from '../shared/errors.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { LiveEvents } from './live-events.js';
import { ApiErrors, ApiExperimentParam, ApiQueryFrom } from '../shared/openapi.js';
import { checkpointSchema, eventsQuerySchema, streamQuerySchema } from './requests.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { DEFAULT_WAIT_MS, ZodValidationPipe } from '../shared/validation.js';

const DEFAULT_PAGE = 100;

@ApiTags('events')
@Controller('experiments/:id/events')
@UseGuards(ApiAuthGuard)
export class EventsController {
  constructor(
    private readonly audit: AuditQueries,
    private readonly reads: ExperimentReads,
    private readonly live: LiveEvents,
    private readonly store: EventStore,
  ) {}

  @Get()
  @UseInterceptors(StreamPositionInterceptor)
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'The experiment event history, paged by stream version, filtered by type and step range',
    description: '`position`/`version` state the stream head the page was read against; pass `next` as `after` for the next page.',
  })
  @ApiQueryFrom(eventsQuerySchema)
  @ApiErrors(400, 404, 409)
  async list(@ExperimentId() id: string, @Query(new ZodValidationPipe(eventsQuerySchema)) query: z.output<typeof eventsQuerySchema>) {
    if (query.minPosition !== undefined) await this.reads.awaitPosition(query.minPosition, query.waitMs ?? DEFAULT_WAIT_MS);
    const page = await this.audit.eventsPage(id, { types: query.type, fromStep: query.fromStep, toStep: query.toStep }, query.after ?? 0, query.limit ?? DEFAULT_PAGE);
    if (page.version === 0) throw new ExperimentNotFoundError(id);
    return { experimentId: id, ...page };
  }

  @Sse('stream')
  @ApiExperimentParam()
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Live events as server-sent events (catch-up from Last-Event-ID, then live)',
    description:
      'Each message: `id` = the gap-safe checkpoint `txid:position`, `data` = the event as JSON. ' +
      'On reconnect an EventSource sends the last id as Last-Event-ID and the stream resumes right after it, without gaps or duplicates.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this checkpoint (`txid:position`)' })
  @ApiQueryFrom(streamQuerySchema)
  @ApiErrors(400, 404)
  async stream(
    @ExperimentId() id: string,
    @Query(new ZodValidationPipe(streamQuerySchema)) query: z.output<typeof streamQuerySchema>,
    @Headers('last-event-id') lastEventId: string | undefined,
  ): Promise<Observable<MessageEvent>> {
    let from = query.lastEventId ?? START;
    if (lastEventId !== undefined) {
      const parsed = checkpointSchema.safeParse(lastEventId);
      if (!parsed.success) throw new RequestValidationError('header.Last-Event-ID', parsed.error.issues[0]!.message);
      from = parsed.data;
    }
    if ((await this.store.streamVersion(id)) === 0) throw new ExperimentNotFoundError(id);
    return this.live.follow(id, from, query.type).pipe(
      map((event): MessageEvent => {
        const data = apiEventOf(event);
        return { id: data.checkpoint, data };
      }),
    );
  }
}
