import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { AppConfig } from './config.js';
import { DatabaseModule } from './database/database.module.js';
import type { Database } from './database/database.js';
import { EventsModule } from './events/events.module.js';
import { ExperimentsModule } from './experiments/experiments.module.js';
import { HealthModule } from './health/health.module.js';

@Module({})
export class AppModule {
  static create(config: AppConfig, database: Database): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ app: config })] }),
        DatabaseModule.forDatabase(database),
        EventsModule,
        ExperimentsModule,
        HealthModule,
      ],
    };
  }
}
