import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { EventsController, ReadTicketController } from './events.controller.js';
import { LiveEvents } from './live-events.js';

/** The event history (paged) and the live SSE stream; the one live hub other contexts follow. */
@Module({
  imports: [ApiSharedModule],
  controllers: [EventsController, ReadTicketController],
  providers: [LiveEvents],
  exports: [LiveEvents],
})
export class EventsModule {}
