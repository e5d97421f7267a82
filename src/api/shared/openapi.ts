/**
 * OpenAPI decorators for what the schemas do not say (error answers, the id parameter). Query,
 * path and body parameters are documented by Nest from the zod schemas that validate them
 * (`@Query({ schema })`, ...; converted in http.ts), so the document cannot drift from validation.
 */
import { applyDecorators, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';

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

/**
 * A POST command on one experiment (`/experiments/:id/<route>`): the route, its success status,
 * the id parameter with the bearer token, a summary and the error answers, in one decorator.
 */
export function ExperimentCommand(options: { route: string; status: 200 | 201 | 202; summary: string; errors: (keyof typeof ERRORS)[] }): MethodDecorator {
  return applyDecorators(Post(options.route), HttpCode(options.status), ApiExperimentParam(), ApiOperation({ summary: options.summary }), ApiErrors(...options.errors));
}
