import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DATABASE } from '../database/database.module.js';
import type { Database } from '../database/database.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(async () => {
            await this.database.query('SELECT 1');
            // The kind only: /health is open to anyone, the path or the Postgres user, host and
            // database are not their business (the start log states them).
            return { kind: this.database.kind };
          })
          .withTimeout(3000),
    ]);
  }
}
