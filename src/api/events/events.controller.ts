import { Body, Controller, Get, Headers, HttpCode, type MessageEvent, Post, Query, Req, Sse, UseGuards, UseInterceptors } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import { map, Observable } from 'rxjs';
import type { z } from 'zod';
import { StreamStore } from '../../events/stream-store.js';
import { START } from '../../events/stored-event.js';
import { ExperimentNotFoundError } from '../../experiments/experiment-projections.js';
import { type ApiEvent, apiEventOf, AuditLedger } from '../../experiments/ports.js';
import type { AppConfig } from '../../config.js';
import { AcceptsReadTicket, ApiAuthGuard, TICKET_TTL_MS } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { RequestValidationError } from '../shared/errors.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { LiveEvents } from './live-events.js';
import { ApiErrors, ApiExperimentParam } from '../shared/openapi.js';
import { checkpointSchema, eventsQuerySchema, streamQuerySchema, ticketRequestSchema } from './requests.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { DEFAULT_WAIT_MS } from '../shared/validation.js';

const DEFAULT_PAGE = 100;
export const DEFAULT_SSE_KEEPALIVE_MS = 15_000;

/**
 * A lease id is the holder's credential for ask/tell: a reader without the token (open reads)
 * sees the lease events without it, as GET /experiments/:id never shows it.
 */
export function withoutLeaseId(event: ApiEvent): ApiEvent {
  if (!event.type.startsWith('Worker') || typeof event.data !== 'object' || event.data === null || !('leaseId' in event.data)) return event;
  const { leaseId: _hidden, ...data } = event.data as Record<string, unknown>;
  return { ...event, data };
}

/** The events as SSE messages, with a comment line every `keepAliveMs` while the stream is open. */
function sseMessages(events: Observable<ApiEvent>, keepAliveMs: number): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    const keepAlive = setInterval(() => subscriber.next({ comment: 'keep-alive' }), keepAliveMs);
    const subscription = events.subscribe({
      next: (data) => subscriber.next({ id: data.checkpoint, data }),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    return () => {
      clearInterval(keepAlive);
      subscription.unsubscribe();
    };
  });
}

@ApiTags('events')
@Controller('experiments/:id/events')
@UseGuards(ApiAuthGuard)
export class EventsController {
  private readonly keepAliveMs: number;

  constructor(
    private readonly audit: AuditLedger,
    private readonly reads: ExperimentReads,
    private readonly live: LiveEvents,
    private readonly store: StreamStore,
    private readonly guard: ApiAuthGuard,
    config: ConfigService,
  ) {
    this.keepAliveMs = config.get<AppConfig>('app')?.sseKeepAliveMs ?? DEFAULT_SSE_KEEPALIVE_MS;
  }

  @Get()
  @UseInterceptors(StreamPositionInterceptor)
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'The experiment event history, paged by stream version, filtered by type and step range',
    description: '`position`/`version` state the stream head the page was read against; pass `next` as `after` for the next page.',
  })
  @ApiErrors(400, 404, 409)
  async list(@ExperimentId() id: string, @Query({ schema: eventsQuerySchema }) query: z.output<typeof eventsQuerySchema>, @Req() request: IncomingMessage) {
    if (query.minPosition !== undefined) await this.reads.awaitPosition(query.minPosition, query.waitMs ?? DEFAULT_WAIT_MS);
    const page = await this.audit.eventsPage(id, { types: query.type, fromStep: query.fromStep, toStep: query.toStep }, query.after ?? 0, query.limit ?? DEFAULT_PAGE);
    if (page.version === 0) throw new ExperimentNotFoundError(id);
    return { experimentId: id, ...page, events: this.guard.authenticated(request) ? page.events : page.events.map(withoutLeaseId) };
  }

  @Sse('stream')
  @AcceptsReadTicket()
  @ApiExperimentParam()
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Live events as server-sent events (catch-up from Last-Event-ID, then live)',
    description:
      'Each message: `id` = the gap-safe checkpoint `txid:position`, `data` = the event as JSON. ' +
      'On reconnect an EventSource sends the last id as Last-Event-ID and the stream resumes right after it, without gaps or duplicates. ' +
      'A comment line (`: keep-alive`) is sent every MCTNAS_SSE_KEEPALIVE_MS (default 15 s). With protected reads, a browser EventSource authenticates with `?ticket=` from POST /auth/sse-ticket.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this checkpoint (`txid:position`)' })
  @ApiQuery({ name: 'ticket', required: false, description: 'a read ticket from POST /auth/sse-ticket (for clients that cannot send the Authorization header)' })
  @ApiErrors(400, 401, 404)
  async stream(
    @ExperimentId() id: string,
    @Query({ schema: streamQuerySchema }) query: z.output<typeof streamQuerySchema>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: IncomingMessage,
  ): Promise<Observable<MessageEvent>> {
    let from = query.lastEventId ?? START;
    if (lastEventId !== undefined) {
      const parsed = checkpointSchema.safeParse(lastEventId);
      if (!parsed.success) throw new RequestValidationError('header.Last-Event-ID', parsed.error.issues[0]!.message);
      from = parsed.data;
    }
    if ((await this.store.streamVersion(id)) === 0) throw new ExperimentNotFoundError(id);
    const reveal = this.guard.authenticated(request);
    const events = this.live.follow(id, from, query.type).pipe(map((event) => (reveal ? apiEventOf(event) : withoutLeaseId(apiEventOf(event)))));
    return sseMessages(events, this.keepAliveMs);
  }
}

/**
 * Read tickets for clients that cannot send the Authorization header (a browser EventSource):
 * `POST /auth/sse-ticket {experimentId}` with the token answers a ticket for that experiment's
 * live stream, to pass as `?ticket=` within 60 s (a connected stream stays open).
 */
@ApiTags('events')
@Controller('auth')
@UseGuards(ApiAuthGuard)
export class ReadTicketController {
  constructor(
    private readonly guard: ApiAuthGuard,
    private readonly store: StreamStore,
  ) {}

  @Post('sse-ticket')
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiOperation({ summary: `A read ticket for one experiment's live stream (GET /experiments/{id}/events/stream?ticket=...), to connect within ${TICKET_TTL_MS / 1000} s` })
  @ApiErrors(400, 401, 404)
  async ticket(@Body({ schema: ticketRequestSchema }) body: z.output<typeof ticketRequestSchema>) {
    if ((await this.store.streamVersion(body.experimentId)) === 0) throw new ExperimentNotFoundError(body.experimentId);
    return { experimentId: body.experimentId, ...this.guard.issueTicket(body.experimentId) };
  }
}
