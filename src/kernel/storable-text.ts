/**
 * Text that Postgres can store: `jsonb` and `text` refuse U+0000, and `jsonb` refuses a lone
 * UTF-16 surrogate (`"\ud800"` is valid JSON to `JSON.parse`, `invalid input syntax for type
 * json` to Postgres). Every string and key of a request is checked before anything is written,
 * so such input is a 400 naming the field instead of a database error. Pure.
 */

/** Why `text` cannot be stored, or null when it can. */
export function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  // A high surrogate not followed by a low one, or a low one not preceded by a high one.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) return 'must not contain lone UTF-16 surrogates (invalid Unicode)';
  return null;
}

/** Deepest nesting accepted in stored JSON (a search-space definition needs 5). */
export const MAX_JSON_DEPTH = 32;

/**
 * The first string, key or nesting level of `value` that cannot be stored, as a dotted path
 * under `root` and a reason; null when everything can. Iterative, so it cannot overflow the
 * stack on deep input.
 */
export function findUnstorable(value: unknown, root: string): { field: string; reason: string } | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const reason = unstorableText(v);
      if (reason) return { field: path, reason };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { field: path, reason: `nesting deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [key, child] of Object.entries(v)) {
      const reason = unstorableText(key);
      if (reason) return { field: path, reason: `keys ${reason}` };
      stack.push({ value: child, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return null;
}
