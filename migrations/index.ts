import { EventStore1764300000000 } from './1764300000000-EventStore.js';
import { LedgerIndex1764400000000 } from './1764400000000-LedgerIndex.js';
import { AppendKeyProbe1764500000000 } from './1764500000000-AppendKeyProbe.js';

/** Every migration, in order. Listed explicitly: ESM has no reliable glob loading. */
export const migrations = [EventStore1764300000000, LedgerIndex1764400000000, AppendKeyProbe1764500000000];
