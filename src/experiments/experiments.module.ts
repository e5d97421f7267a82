import { type DynamicModule, Global, Module } from '@nestjs/common';
import { EventStore } from '../events/event-store.js';
import type { Runtime } from '../runtime.js';
import { ExperimentProjections } from './experiment-projections.js';
import { ExperimentService } from './experiment-service.js';

/** Exposes the runtime's event store, projections and command service to controllers. */
@Global()
@Module({})
export class ExperimentsModule {
  static forRuntime(runtime: Runtime): DynamicModule {
    return {
      module: ExperimentsModule,
      providers: [
        { provide: EventStore, useValue: runtime.store },
        { provide: ExperimentProjections, useValue: runtime.projections },
        { provide: ExperimentService, useValue: runtime.service },
      ],
      exports: [EventStore, ExperimentProjections, ExperimentService],
    };
  }
}
