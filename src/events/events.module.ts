import { Module } from '@nestjs/common';
import { hostname } from 'node:os';
import { DATABASE } from '../database/database.module.js';
import type { Database } from '../database/database.js';
import { codeVersion } from '../version.js';
import { EventStore } from './event-store.js';

@Module({
  providers: [
    {
      provide: EventStore,
      useFactory: (database: Database) => new EventStore(database, { host: hostname(), codeVersion }),
      inject: [DATABASE],
    },
  ],
  exports: [EventStore],
})
export class EventsModule {}
