import { type DynamicModule, Global, Module } from '@nestjs/common';
import { EventStore } from './events/event-store.js';
import { EventFeed, StreamStore } from './events/stream-store.js';
import { ExperimentProjections } from './experiments/experiment-projections.js';
import { ExperimentService } from './experiments/experiment-service.js';
import { AuditLedger, ExperimentIndex, ProjectionSnapshots } from './experiments/ports.js';
import { TimelineReadModel } from './experiments/timeline-read-model.js';
import type { Runtime } from './runtime.js';

/**
 * Exposes the runtime's ports (stream store, event feed, experiment index, audit ledger,
 * projection snapshots), the projections and the command service to controllers; the ports'
 * abstract classes are the injection tokens. `EventStore` is also provided when the runtime is
 * the SQL one, for code not yet moved to the ports.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRuntime(runtime: Runtime): DynamicModule {
    const providers = [
      { provide: StreamStore, useValue: runtime.store },
      { provide: EventFeed, useValue: runtime.store },
      { provide: ExperimentIndex, useValue: runtime.index },
      { provide: AuditLedger, useValue: runtime.audit },
      { provide: ProjectionSnapshots, useValue: runtime.snapshots },
      { provide: ExperimentProjections, useValue: runtime.projections },
      { provide: ExperimentService, useValue: runtime.service },
      ...(runtime.timeline ? [{ provide: TimelineReadModel, useValue: runtime.timeline }] : []),
      ...(runtime.store instanceof EventStore ? [{ provide: EventStore, useValue: runtime.store }] : []),
    ];
    return { module: RuntimeModule, providers, exports: providers.map((p) => p.provide) };
  }
}
