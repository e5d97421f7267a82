/** The panels' one way to read the API: the newest answer for what the panel shows now. */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

export interface Latest<T> {
  /** the newest answer, or the previous one while the next is on its way; null before the first */
  readonly value: T | null;
  /** why the newest read failed, null once a read succeeds */
  readonly error: unknown;
}

/**
 * GET `path`, read again whenever `path` or `refresh` (a live tick, a node's new data) changes.
 * Only the current read may land: an answer that arrives after the view moved on (a slower live
 * read after a time-travel read) is dropped instead of overwriting the newer one. `path` null:
 * nothing to read now (the previous answer stays).
 */
export function useLatest<T>(path: string | null, refresh?: unknown): Latest<T> {
  const [latest, setLatest] = useState<Latest<T>>({ value: null, error: null });
  useEffect(() => {
    if (path === null) return;
    let current = true;
    api<T>(path).then(
      (value) => {
        if (current) setLatest({ value, error: null });
      },
      (error: unknown) => {
        if (current) setLatest((previous) => ({ value: previous.value, error }));
      },
    );
    return () => {
      current = false;
    };
  }, [path, refresh]);
  return latest;
}
