import type { DomainEvent, EventMetadata, EventType } from './catalog.js';

/** Where a gap-safe reader stands in the global order: (transaction id, position). */
export interface Checkpoint {
  readonly transactionId: string;
  readonly position: number;
}

export const START: Checkpoint = Object.freeze({ transactionId: '0', position: 0 });

export type StoredEvent<E extends DomainEvent = DomainEvent> = E & {
  readonly position: number;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly schemaVersion: number;
  readonly metadata: EventMetadata;
  readonly idempotencyKey: string | null;
  readonly transactionId: string;
  readonly createdAt: Date;
};

export type StoredEventOf<T extends EventType> = StoredEvent<Extract<DomainEvent, { type: T }>>;

export function checkpointOf(event: Pick<StoredEvent, 'transactionId' | 'position'>): Checkpoint {
  return { transactionId: event.transactionId, position: event.position };
}

/** Serializes a checkpoint as `txid:position` (used for SSE ids and projection bookkeeping). */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  return `${checkpoint.transactionId}:${checkpoint.position}`;
}

export function parseCheckpoint(text: string): Checkpoint {
  const match = /^(\d{1,20}):(\d{1,16})$/.exec(text.trim());
  if (!match) throw new Error(`checkpoint must look like '<transactionId>:<position>', got '${text}'`);
  const position = Number(match[2]);
  if (!Number.isSafeInteger(position)) throw new Error(`checkpoint position out of range: '${text}'`);
  return { transactionId: match[1]!, position };
}
