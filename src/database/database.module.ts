import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Database } from './database.js';

export const DATABASE = Symbol('Database');

/**
 * Provides the opened, migrated `Database`. The caller opens it (main.ts, tests) and hands it
 * in, so start-up failures surface before Nest boots and tests can share one instance.
 */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  static forDatabase(database: Database) {
    return {
      module: DatabaseModule,
      providers: [{ provide: DATABASE, useValue: database }],
      exports: [DATABASE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
