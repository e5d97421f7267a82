import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config.js';
import { AuditQueries } from './audit-queries.js';
import { API_AUTH, ApiAuthGuard, resolveApiAuth } from './auth.js';
import { ExperimentReads } from './experiment-reads.js';

/**
 * What every API context uses: the bearer-token guard (and the token it checks), the read path
 * (now / as of / after a position) and the audit queries.
 */
@Module({
  providers: [
    { provide: API_AUTH, useFactory: (config: ConfigService) => resolveApiAuth(config.getOrThrow<AppConfig>('app')), inject: [ConfigService] },
    ApiAuthGuard,
    ExperimentReads,
    AuditQueries,
  ],
  exports: [API_AUTH, ApiAuthGuard, ExperimentReads, AuditQueries],
})
export class ApiSharedModule {}
