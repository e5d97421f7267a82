import { Module } from '@nestjs/common';
import { EventStore } from '../events/event-store.js';
import { EventsModule } from '../events/events.module.js';
import { ExperimentProjections } from './experiment-projections.js';
import { ExperimentService } from './experiment-service.js';

@Module({
  imports: [EventsModule],
  providers: [
    { provide: ExperimentProjections, useFactory: (store: EventStore) => new ExperimentProjections(store), inject: [EventStore] },
    {
      provide: ExperimentService,
      useFactory: (store: EventStore, projections: ExperimentProjections) => new ExperimentService(store, projections),
      inject: [EventStore, ExperimentProjections],
    },
  ],
  exports: [EventsModule, ExperimentProjections, ExperimentService],
})
export class ExperimentsModule {}
