/**
 * Request validation with zod: the one pipe for every request part, the shared schemas of ids, positions
 * and tree paths, and the checks JSON bodies need before anything reaches Postgres.
 */
import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { findUnstorable, unstorableText } from '../../kernel/storable-text.js';
import { RequestValidationError } from './errors.js';

/**
 * Validates every request part declared with a schema (`@Body({ schema })`, `@Query({ schema })`,
 * `@Param('id', { schema })`: Nest 12's native Standard Schema support, the zod schemas here)
 * and answers a failure as a 400 naming the field as `<part>.<path>`. Registered once, as the
 * API's global pipe; a part without a schema passes through unchanged.
 */
@Injectable()
export class SchemaValidationPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const schema = metadata.schema;
    if (!schema) return value;
    const part = metadata.type === 'custom' ? 'request' : metadata.type;
    const prefix = metadata.data ? `${part}.${metadata.data}` : part;
    if (metadata.type === 'body') assertStorableJson(value, prefix);
    const result = await schema['~standard'].validate(value);
    if (result.issues) {
      const issue = result.issues[0]!;
      const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment));
      throw new RequestValidationError([prefix, ...path].join('.'), issue.message);
    }
    return result.value;
  }
}

/**
 * Postgres cannot store U+0000 or a lone UTF-16 surrogate, and very deep nesting would
 * overflow the stack of the serializers downstream: all are refused here, naming the field,
 * so they never surface as a database error.
 */
export function assertStorableJson(value: unknown, root: string): void {
  const problem = findUnstorable(value, root);
  if (problem) throw new RequestValidationError(problem.field, problem.reason);
}

/** Printable text without control characters (ids, worker names, reasons). */
export const safeText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
    .refine((text) => unstorableText(text) === null, 'must be valid Unicode (no lone UTF-16 surrogates)');

export const experimentIdSchema = safeText(200);

/** A non-negative safe integer written in decimal digits only (no signs, exponents or blanks). */
export const queryInteger = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const positionQuery = queryInteger(0, Number.MAX_SAFE_INTEGER);

/**
 * An integer JSON number in [min, max], whose every failure states that rule (zod's own message
 * for -1e308 names the safe-integer range, which is not the rule).
 */
export const bodyInteger = (min: number, max: number, what = 'an integer') => {
  const rule = `must be ${what} from ${min} to ${max}`;
  return z.number({ error: rule }).min(min, rule).max(max, rule).int(rule);
};

/** Read-your-writes: wait until `minPosition` is reached, at most `waitMs` (default 5 s). */
export const consistencyQuery = {
  minPosition: positionQuery.optional(),
  waitMs: queryInteger(0, 30_000).optional(),
};

/** `?at=` a past position (time travel); `at` also waits like `minPosition`. */
export const asOfQuery = { at: queryInteger(1, Number.MAX_SAFE_INTEGER).optional(), ...consistencyQuery };

export const DEFAULT_WAIT_MS = 5_000;

/**
 * A tree path: op indices separated by dots or commas (`2.0.1`, `2,0,1`); `root` or empty is
 * the root. Whether each index exists in the space is checked against the tree (422).
 */
export const treePathSchema = z
  .string()
  .max(4096)
  .regex(/^(root|\d{1,6}([.,]\d{1,6})*)?$/, "must be op indices separated by '.' or ',' (or 'root')")
  .transform((text) => (text === '' || text === 'root' ? [] : text.split(/[.,]/).map(Number)));

/** Comma-separated list of one of `values` (`?type=RewardRecorded,CheckpointSaved`). */
export const csvEnum = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .max(4096)
    .transform((text) => text.split(','))
    .pipe(z.array(z.enum(values)).min(1));

/** A zod schema as an OpenAPI 3.0 schema object: its request shape by default. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** The query of a plain read: now, or as of `at`, after `minPosition`. */
export const readQuerySchema = z.object(asOfQuery).strict();
