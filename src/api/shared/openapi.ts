/** OpenAPI decorators derived from the zod schemas, so the document cannot drift from validation. */
import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { z } from 'zod';
import { openApiSchema } from './validation.js';

type JsonObjectSchema = { properties?: Record<string, Record<string, unknown>>; required?: string[] };

export function ApiQueryFrom(schema: z.ZodType): MethodDecorator {
  const json = openApiSchema(schema) as JsonObjectSchema;
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) => ApiQuery({ name, required: json.required?.includes(name) ?? false, schema: property })),
  );
}

export function ApiBodyFrom(schema: z.ZodType): MethodDecorator {
  return applyDecorators(ApiBody({ schema: openApiSchema(schema) }));
}

const ERRORS: Record<number, string> = {
  400: 'malformed request: `field` names the offending field',
  401: 'missing or wrong bearer token',
  404: 'unknown experiment (or it did not exist at `at`)',
  409: 'lease, version, idempotency or lifecycle conflict; or `minPosition`/`at` not reached in time',
  422: 'well-formed but semantically invalid value (loss, step, path, architecture)',
};

/** Documents the error answers an endpoint can give (the body is always `ErrorBody`). */
export function ApiErrors(...statuses: (keyof typeof ERRORS)[]): MethodDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: ERRORS[status] })));
}

export function ApiExperimentParam(): MethodDecorator {
  return applyDecorators(ApiParam({ name: 'id', description: 'experiment id (e.g. exp-3f2a...)' }), ApiBearerAuth());
}
