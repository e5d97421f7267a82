/** The experiment index over the in-memory event store. */
import type { MemoryEventStore } from '../../events/memory-event-store.js';
import type { StoredEvent } from '../../events/stored-event.js';
import { type ExperimentEntry, ExperimentIndex, type ExperimentPage, type LeaseEvents } from '../../experiments/ports.js';

const LEASE_TYPES = new Set<string>(['WorkerLeaseAcquired', 'WorkerHeartbeat', 'WorkerLeaseReleased', 'WorkerLeaseExpired', 'ExperimentCompleted']);

export class MemoryExperimentIndex extends ExperimentIndex {
  constructor(private readonly store: MemoryEventStore) {
    super();
  }

  async list(page: ExperimentPage = {}): Promise<ExperimentEntry[]> {
    const after = page.after ?? 0;
    const created = this.created().filter((e) => e.position > after);
    return created.slice(0, page.limit ?? created.length).map((e) => ({ id: e.streamId, name: String((e.data as { name: unknown }).name), position: e.position, createdAt: new Date(e.createdAt) }));
  }

  async leaseEvents(): Promise<LeaseEvents[]> {
    return this.created().map(({ streamId }) => {
      const events = this.store.events(streamId);
      let acquired: StoredEvent | undefined;
      let last: StoredEvent | undefined;
      for (let i = events.length - 1; i >= 0 && !acquired; i--) {
        const e = events[i]!;
        if (!last && LEASE_TYPES.has(e.type)) last = e;
        if (e.type === 'WorkerLeaseAcquired') acquired = e;
      }
      return { experimentId: streamId, events: [acquired, last !== acquired ? last : undefined].filter((e) => e !== undefined) };
    });
  }

  private created(): StoredEvent[] {
    return this.store.allEvents().filter((e) => e.type === 'ExperimentCreated');
  }
}
