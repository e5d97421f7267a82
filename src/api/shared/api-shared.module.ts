import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config.js';
import { API_AUTH, ApiAuthGuard, resolveApiAuth } from './auth.js';
import { ExperimentReads } from './experiment-reads.js';

/**
 * What every API context uses: the bearer-token guard (and the token it checks), the read path
 * (now / as of / after a position). The ports come from the global RuntimeModule.
 */
@Module({
  providers: [
    { provide: API_AUTH, useFactory: (config: ConfigService) => resolveApiAuth(config.getOrThrow<AppConfig>('app')), inject: [ConfigService] },
    ApiAuthGuard,
    ExperimentReads,
  ],
  exports: [API_AUTH, ApiAuthGuard, ExperimentReads],
})
export class ApiSharedModule {}
