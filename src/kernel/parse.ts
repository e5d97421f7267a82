/**
 * The one way input is parsed against a zod schema: on failure, a DomainError naming the first
 * offending field as a dotted path under `root` (`body.searchSpace.layers.0`), so every layer
 * reports bad input the same way. Pure.
 */
import type { z } from 'zod';
import { DomainError, type ErrorKind } from './domain-error.js';

/** Dotted path of a zod issue under `root` ('' root: the path alone; empty path: the root or '(input)'). */
export function issueField(issue: z.core.$ZodIssue, root = ''): string {
  const parts = [...(root ? [root] : []), ...issue.path.map(String)];
  return parts.length > 0 ? parts.join('.') : '(input)';
}

export interface ParseOptions {
  /** prefix of the field path, e.g. 'body' or 'query' */
  readonly root?: string;
  /** the error's code; default 'RequestValidationError' */
  readonly code?: string;
  /** default 'invalid' (400) */
  readonly kind?: ErrorKind;
}

/** `schema.parse(value)`, throwing a DomainError that names the first bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, options: ParseOptions = {}): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issueField(issue, options.root);
  throw new DomainError(options.kind ?? 'invalid', options.code ?? 'RequestValidationError', `${field}: ${issue.message}`, field);
}
