/**
 * The dashboard's only way to the service: the public HTTP API (fetch), with the bearer token
 * when the user gave one (kept for the browser session), and server-sent events read with
 * fetch so they carry the Authorization header (EventSource cannot send it).
 */
const TOKEN_KEY = 'mctnas-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code?: string; message?: string; field?: string } | null,
  ) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

let token: string | null = sessionStorage.getItem(TOKEN_KEY);
const tokenWaiters = new Set<() => void>();

export function getToken(): string | null {
  return token;
}

export function setToken(value: string | null): void {
  token = value;
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const wake of [...tokenWaiters]) wake();
}

/** Listeners told when the service asked for a token (a 401): the app shows the token form. */
export const tokenRequests = new Set<(message: string) => void>();

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** Resolves once a token is set (after a 401, the request is retried with it). */
function tokenChanged(): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      tokenWaiters.delete(wake);
      resolve();
    };
    tokenWaiters.add(wake);
  });
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  for (;;) {
    const response = await fetch(path, {
      method: init.method ?? 'GET',
      headers: headers(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: init.signal,
    });
    const text = await response.text();
    const body = text ? (JSON.parse(text) as unknown) : null;
    if (response.status === 401) {
      // Reads and writes alike: ask the user once, then retry with the token.
      for (const ask of tokenRequests) ask((body as { message?: string } | null)?.message ?? 'this service needs the API token');
      await tokenChanged();
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, body as ApiError['body']);
    return body as T;
  }
}

/** `?a=1&b=2` from the defined entries. */
/** Every experiment, oldest first: GET /experiments page after page (`next` until null). */
export async function listExperiments(): Promise<{ id: string; position: number }[]> {
  const all: { id: string; position: number }[] = [];
  for (let after = 0; ; ) {
    const page = await api<{ experiments: { id: string; position: number }[]; next: number | null }>(`/experiments?limit=1000&after=${after}`);
    all.push(...page.experiments);
    if (page.next === null) return all;
    after = page.next;
  }
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length === 0 ? '' : `?${entries.map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')}`;
}

export interface LiveEvent {
  readonly position: number;
  readonly streamVersion: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly checkpoint: string;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/**
 * Follows an experiment's events over SSE until `signal` aborts: reconnects after a drop with
 * `Last-Event-ID` (the last checkpoint received), so nothing is lost or repeated. `onEvents`
 * gets each received chunk's events at once.
 */
export async function followEvents(
  experimentId: string,
  types: readonly string[],
  onEvents: (events: LiveEvent[]) => void,
  onState: (state: StreamState) => void,
  signal: AbortSignal,
  from?: string,
): Promise<void> {
  let last: string | null = from ?? null;
  let delay = 500;
  while (!signal.aborted) {
    try {
      onState(last ? 'reconnecting' : 'connecting');
      const response = await fetch(`/experiments/${encodeURIComponent(experimentId)}/events/stream${query({ type: types.join(',') })}`, {
        headers: headers({ Accept: 'text/event-stream', ...(last ? { 'Last-Event-ID': last } : {}) }),
        signal,
      });
      if (response.status === 401) {
        for (const ask of tokenRequests) ask('this service needs the API token');
        await tokenChanged();
        continue;
      }
      if (!response.ok || !response.body) throw new ApiError(response.status, null);
      onState('live');
      delay = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const events: LiveEvent[] = [];
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith('id:')) last = line.slice(3).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (data) events.push(JSON.parse(data) as LiveEvent);
        }
        if (events.length > 0) onEvents(events);
      }
    } catch (error) {
      if (signal.aborted) break;
    }
    if (signal.aborted) break;
    onState('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 5000);
  }
  onState('closed');
}
