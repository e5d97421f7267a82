import { type DynamicModule, Global, Module } from '@nestjs/common';
import { EventStore } from './events/event-store.js';
import type { Runtime } from './runtime.js';
import { ExperimentProjections } from './experiments/experiment-projections.js';
import { ExperimentService } from './experiments/experiment-service.js';

/** Exposes the runtime's event store, projections and command service to controllers. */
@Global()
@Module({})
export class RuntimeModule {
  static forRuntime(runtime: Runtime): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: EventStore, useValue: runtime.store },
        { provide: ExperimentProjections, useValue: runtime.projections },
        { provide: ExperimentService, useValue: runtime.service },
      ],
      exports: [EventStore, ExperimentProjections, ExperimentService],
    };
  }
}
