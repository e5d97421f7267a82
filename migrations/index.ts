import { EventStore1764300000000 } from './1764300000000-EventStore.js';

/** Every migration, in order. Listed explicitly: ESM has no reliable glob loading. */
export const migrations = [EventStore1764300000000];
