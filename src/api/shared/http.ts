/**
 * HTTP-level setup that lives outside Nest's module graph: the JSON body parser with its size
 * limit (and JSON answers for its errors) and the OpenAPI document and UI. main.ts and the
 * tests call it on the application before `init`/`listen`.
 */
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { z } from 'zod';
import type { AppConfig } from '../../config.js';
import { codeVersion } from '../../version.js';
import { installHttpDrain } from './drain.js';
import type { ErrorBody } from './exception.filter.js';
import { openApiSchema } from './validation.js';

/** The OpenAPI UI path; the JSON document is at `/docs-json`. */
export const DOCS_PATH = 'docs';

export function configureHttpApi(app: INestApplication, config: Pick<AppConfig, 'bodyLimitBytes'>): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  // First, so a request arriving during shutdown is refused before any work starts.
  installHttpDrain(app);
  // Registered before Nest's defaults, which then skip their own JSON parser (100 kB limit).
  express.use(requireJsonBodies);
  express.useBodyParser('json', { limit: config.bodyLimitBytes });
  express.use(bodyParserErrors);
  answerClientErrorsAsJson(app.getHttpServer() as Server);
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('MCT-NAS experiment service')
        .setDescription(
          'Event-sourced MCT-NAS experiments: time-travel tree snapshots, per-node reward ledgers, live events, ask/tell for external trainers. ' +
            'Every read states the stream position it reflects (body `position`/`version`, headers X-Stream-Position/X-Stream-Version).',
        )
        .setVersion(codeVersion)
        .addBearerAuth()
        .build(),
      // Parameters and bodies are documented from the same zod schemas that validate them.
      { standardSchemaConverter: (schema, { schemaType }) => ({ schema: openApiSchema(schema as z.ZodType, schemaType) }) },
    );
  SwaggerModule.setup(DOCS_PATH, app, document);
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Every request body is JSON: a body of another media type (or none declared) is a 415 saying
 * so, instead of reaching validation as a missing body. Requests without a body pass.
 */
function requireJsonBodies(request: IncomingMessage, response: ServerResponse, next: () => void): void {
  const hasBody = (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0') || request.headers['transfer-encoding'] !== undefined;
  const type = request.headers['content-type'] ?? '';
  if (!hasBody || JSON_TYPE.test(type)) {
    next();
    return;
  }
  const body: ErrorBody = {
    statusCode: 415,
    error: STATUS_CODES[415]!,
    code: 'UnsupportedMediaType',
    message: `request bodies must be JSON (Content-Type: application/json), not ${type ? `'${type.slice(0, 100)}'` : 'undeclared'}`,
    field: 'header.Content-Type',
  };
  response.statusCode = 415;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(body));
  request.resume();
}

/**
 * The body parser fails before any Nest route runs, so Nest's exception filter never sees its
 * errors: answer them here in the API's error shape (oversize 413, unparseable 400, bad
 * charset 415) instead of Express's HTML page.
 */
function bodyParserErrors(error: unknown, _request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void {
  const e = error as { status?: unknown; type?: unknown; message?: unknown; limit?: unknown };
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500) {
    next(error);
    return;
  }
  const message =
    e.type === 'entity.too.large'
      ? `the request body exceeds the limit of ${String(e.limit)} bytes`
      : e.type === 'entity.parse.failed'
        ? 'the request body is not valid JSON'
        : String(e.message ?? 'unreadable request body');
  const body: ErrorBody = { statusCode: e.status, error: STATUS_CODES[e.status] ?? 'Error', code: typeof e.type === 'string' ? e.type : 'BodyError', message, field: 'body' };
  response.statusCode = e.status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(body));
}

/**
 * Requests Node's HTTP parser refuses before any route runs (headers over the 16 KiB limit,
 * malformed request lines) get a JSON answer in the API's shape too (Node's default is an
 * empty-bodied 400/431), then the connection is closed.
 */
function answerClientErrorsAsJson(server: Server): void {
  if (server.listeners('clientError').some((l) => (l as { jsonAnswer?: boolean }).jsonAnswer)) return;
  const listener = (error: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Socket) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && error.bytesParsed === 0)) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
    const message =
      status === 431 ? 'the request headers exceed the 16 KiB limit' : status === 413 ? 'the request is too large' : `the request is not valid HTTP (${error.code ?? 'parse error'})`;
    const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', code: status === 431 ? 'HeadersTooLarge' : 'MalformedRequest', message, field: 'headers' } satisfies ErrorBody);
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };
  Object.assign(listener, { jsonAnswer: true });
  server.on('clientError', listener);
}
