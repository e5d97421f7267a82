import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { type Observable, tap } from 'rxjs';

/**
 * Every answer that states the stream position it reflects (`{ position, version, ... }`)
 * also states it in headers, so clients and caches can see it without parsing the body.
 */
@Injectable()
export class StreamPositionInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<ServerResponse>();
    return next.handle().pipe(
      tap((body) => {
        if (response.headersSent || body === null || typeof body !== 'object') return;
        const { position, version } = body as { position?: unknown; version?: unknown };
        if (typeof position === 'number') response.setHeader('X-Stream-Position', String(position));
        if (typeof version === 'number') response.setHeader('X-Stream-Version', String(version));
      }),
    );
  }
}
