import { hasCode } from '../../src/kernel/domain-error.js';

/** An `assert.throws`/`assert.rejects` matcher: a DomainError with this code. */
export function withCode(code: string): (error: unknown) => boolean {
  return (error) => hasCode(error, code);
}
