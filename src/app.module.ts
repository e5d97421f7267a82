import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ApiModule } from './api/api.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import type { AppConfig } from './config.js';
import { DatabaseModule } from './database/database.module.js';
import type { Database } from './database/database.js';
import { RuntimeModule } from './runtime.module.js';
import { HealthModule } from './health/health.module.js';
import { createRuntime, isRuntime, type Runtime } from './runtime.js';

@Module({})
export class AppModule {
  /** The HTTP application over a database (a fresh runtime) or an existing runtime (shared with workers). */
  static create(config: AppConfig, databaseOrRuntime: Database | Runtime, providers: Provider[] = []): DynamicModule {
    const runtime = isRuntime(databaseOrRuntime) ? databaseOrRuntime : createRuntime(databaseOrRuntime);
    return {
      module: AppModule,
      // Global so feature modules (e.g. the API's search controller) see what the caller attaches.
      global: true,
      providers,
      exports: providers,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ app: config })] }),
        DatabaseModule.forDatabase(runtime.database),
        RuntimeModule.forRuntime(runtime),
        HealthModule,
        ApiModule,
        DashboardModule,
      ],
    };
  }
}
