import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import { ZodError } from 'zod';
import { DomainError, type ErrorKind } from '../../kernel/domain-error.js';
import { PositionNotReachedError } from './errors.js';

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly statusCode: number;
  /** the HTTP reason phrase */
  readonly error: string;
  /** machine-readable kind: the domain error's name, or the HTTP exception's */
  readonly code: string;
  readonly message: string;
  /** dotted path of the offending field (`body.loss`, `query.depth`, `searchSpace.layers.0`) */
  readonly field?: string;
}

type Mapping = { status: number; field?: string };

/**
 * The one table from what went wrong to the HTTP status: malformed input is 400 (naming the
 * field), a missing token 401, unknown experiments 404, lease/version/idempotency/lifecycle
 * conflicts (and a position not reached in time) 409, well-formed but semantically invalid
 * values 422, a dependency down 503. `internal` is a bug: 500 with a generic message, logged
 * with its stack.
 */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthorized: 401,
  'not-found': 404,
  conflict: 409,
  unprocessable: 422,
  unavailable: 503,
  internal: 500,
};

/**
 * Every error of ours is a DomainError with a kind; of the framework's, a ZodError escaping a
 * parse is malformed input (its first issue names the field) and an HttpException (Nest's 404,
 * terminus' health report) keeps its own status and body (see the filter). Anything else, and
 * `internal`, is null: a bug.
 */
export function classify(error: unknown): Mapping | null {
  if (error instanceof DomainError) return error.kind === 'internal' ? null : { status: STATUS_OF_KIND[error.kind], field: error.field };
  if (error instanceof ZodError) return { status: STATUS_OF_KIND.invalid, field: error.issues[0]?.path.map(String).join('.') };
  return null;
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ServerResponse>();
    const body = this.toBody(error, host.switchToHttp().getRequest<RequestParts>());
    if (response.headersSent) {
      // A streaming answer (SSE) already started: nothing can be sent but the end.
      response.end();
      return;
    }
    if (body.statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    // A position not reached yet, or a dependency down (the database restarting): retry soon.
    if (error instanceof PositionNotReachedError || body.statusCode === 503) response.setHeader('Retry-After', '1');
    response.statusCode = body.statusCode;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.end(JSON.stringify(body));
  }

  private toBody(error: unknown, request: RequestParts): ErrorBody {
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const payload = error.getResponse();
      // Framework exceptions (Nest's route 404, Express' undecodable parameter) in the API's
      // shape; the message is the framework's, the code names what happened.
      const message = typeof payload === 'string' ? payload : frameworkMessage(payload, error.message);
      return { statusCode: status, error: reason(status), code: frameworkCode(status, message, error.name), message };
    }
    const mapped = classify(error);
    if (mapped) {
      const e = error as Error;
      if (!mapped.field) return { statusCode: mapped.status, error: reason(mapped.status), code: e.name, message: e.message };
      const field = requestField(mapped.field, request);
      const message = e.message.startsWith(`${mapped.field}: `) ? `${field}: ${e.message.slice(mapped.field.length + 2)}` : e.message;
      return { statusCode: mapped.status, error: reason(mapped.status), code: e.name, message, field };
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return { statusCode: 500, error: reason(500), code: 'InternalError', message: 'internal error (logged on the server)' };
  }
}

/** The request as Express parsed it (what the error's field may refer to). */
interface RequestParts {
  readonly body?: unknown;
  readonly query?: unknown;
  readonly params?: unknown;
}

const REQUEST_PARTS = /^(body|query|param|header|headers|request)(\.|$)/;

/**
 * A field named by the domain (`loss`, `step`, `leaseId`, `searchSpace.layers.0`) as the request
 * field that carried it (`body.loss`, `param.step`, ...): the part whose top-level key it is.
 * Fields the request parts already name pass through.
 */
function requestField(field: string, request: RequestParts): string {
  if (REQUEST_PARTS.test(field)) return field;
  const key = field.split('.')[0]!;
  for (const [part, value] of [['body', request.body], ['param', request.params], ['query', request.query]] as const) {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, key)) return `${part}.${field}`;
  }
  return field;
}

/** The message of a framework exception's object payload (`message` may be a list). */
function frameworkMessage(payload: object, fallback: string): string {
  const message = (payload as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' && message.length > 0 ? message : fallback;
}

function frameworkCode(status: number, message: string, name: string): string {
  if (status === 404 && message.startsWith('Cannot ')) return 'RouteNotFound';
  if (status === 400 && message.startsWith('Failed to decode param')) return 'InvalidPathEncoding';
  return name;
}

function reason(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}
