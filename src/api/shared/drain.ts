/**
 * Graceful drain of the HTTP side, for a clean shutdown under load: stop accepting
 * connections, answer requests that arrive on open keep-alive connections with 503
 * `ShuttingDown` (+ `Connection: close`, `Retry-After`) instead of starting work that the
 * closing database could cut in half, end the SSE streams, let the requests already running
 * finish (their commits complete), and after a grace period close whatever is still open.
 * Only then may the database close.
 */
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { ErrorBody } from './exception.filter.js';

export interface HttpDrain {
  /** requests being answered now (SSE streams included) */
  readonly inFlight: number;
  readonly draining: boolean;
  /**
   * Stops taking work, runs `endStreams` (which must end the long-lived answers), waits up to
   * `graceMs` for running requests, then closes every connection. Resolves when the server is
   * closed; idempotent.
   */
  drain(options: { graceMs: number; endStreams?: () => void }): Promise<{ waitedMs: number; cut: number }>;
}

const DRAINS = new WeakMap<object, HttpDrain>();

/** Installs the in-flight counter and the 503 gate; call before `init`/`listen`. */
export function installHttpDrain(app: INestApplication): HttpDrain {
  const existing = DRAINS.get(app);
  if (existing) return existing;
  const express = app as NestExpressApplication;
  const running = new Set<ServerResponse>();
  let draining = false;
  let drained: Promise<{ waitedMs: number; cut: number }> | null = null;
  const idle: (() => void)[] = [];
  express.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
    if (draining) {
      const body: ErrorBody = { statusCode: 503, error: STATUS_CODES[503]!, code: 'ShuttingDown', message: 'the service is shutting down: retry against the restarted service' };
      response.shouldKeepAlive = false;
      response.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close', 'Retry-After': '1' });
      response.end(JSON.stringify(body));
      request.resume();
      return;
    }
    running.add(response);
    response.once('close', () => {
      running.delete(response);
      if (running.size === 0) for (const resolve of idle.splice(0)) resolve();
    });
    next();
  });
  const drain: HttpDrain = {
    get inFlight() {
      return running.size;
    },
    get draining() {
      return draining;
    },
    drain({ graceMs, endStreams }) {
      if (drained) return drained;
      draining = true;
      const started = performance.now();
      const server = app.getHttpServer() as Server;
      drained = (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        endStreams?.();
        if (running.size > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([new Promise<void>((resolve) => idle.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
          clearTimeout(timer);
        }
        const cut = running.size;
        // Keep-alive connections between requests, and whatever outlived the grace period.
        server.closeAllConnections();
        await closed;
        return { waitedMs: performance.now() - started, cut };
      })();
      return drained;
    },
  };
  DRAINS.set(app, drain);
  return drain;
}
