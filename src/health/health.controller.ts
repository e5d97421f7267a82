import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';
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
  // Terminus documents the responses by require()-ing @nestjs/swagger's CommonJS build, a
  // second copy of Nest loaded at start (and outside the server bundle): documented here instead.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({ description: 'The database answers' })
  @ApiServiceUnavailableResponse({ description: 'The database does not answer (within 3 s)' })
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
