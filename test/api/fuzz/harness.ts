/**
 * Runs fast-check generated requests against a real listening service (the whole Nest
 * application on a real database, over TCP with a raw HTTP client) and checks, per request:
 * no 5xx, an answer within 2 s, every error in the documented JSON shape, and no event written
 * by a rejected request.
 */
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../../../src/database/database.js';
import { type FuzzRequest, type FuzzTarget, requestArbitrary } from './arbitraries.js';

export const ANSWER_WITHIN_MS = 2_000;
const REQUEST_FIELD = /^(body|query|param|header|headers)(\.|$)/;

export interface FuzzAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

/** One request over a fresh connection; an SSE answer is cut after its headers. */
export function send(port: number, request: FuzzRequest, timeoutMs = ANSWER_WITHIN_MS * 5): Promise<FuzzAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const req = http.request(
      { host: '127.0.0.1', port, method: request.method, path: request.path, headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started });
        if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          res.destroy();
          done();
          return;
        }
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** What is wrong with an answer ('' when nothing). */
export function problemWith(answer: FuzzAnswer): string {
  if (answer.status >= 500) return `server error ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (answer.ms > ANSWER_WITHIN_MS) return `answered after ${answer.ms.toFixed(0)} ms`;
  if (answer.status < 400) return '';
  if (!String(answer.headers['content-type'] ?? '').startsWith('application/json')) return `error ${answer.status} answered as ${answer.headers['content-type']}: ${answer.body.slice(0, 200)}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return `error ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`;
  }
  if (body.statusCode !== answer.status) return `error body statusCode ${String(body.statusCode)} != ${answer.status}`;
  for (const key of ['error', 'code', 'message'] as const) {
    if (typeof body[key] !== 'string' || (body[key] as string).length === 0) return `error body without a string '${key}': ${answer.body.slice(0, 300)}`;
  }
  if ('field' in body && typeof body.field !== 'string') return `error body with a non-string 'field': ${answer.body.slice(0, 300)}`;
  // A field names what the client sent (`body.loss`, `query.limit`, `param.leaseId`), never an internal one (`data.schedule.warmupSteps`).
  if ('field' in body && !REQUEST_FIELD.test(body.field as string)) return `error body naming a field that is not part of the request: ${answer.body.slice(0, 300)}`;
  const extra = Object.keys(body).filter((k) => !['statusCode', 'error', 'code', 'message', 'field'].includes(k));
  if (extra.length > 0) return `error body with undocumented keys ${extra.join(', ')}`;
  return '';
}

/** Count and newest position of the events table: any write changes it. */
export async function history(db: Database): Promise<string> {
  const [row] = await db.query<{ n: unknown; head: unknown }>('SELECT count(*) AS n, coalesce(max(position), 0) AS head FROM events');
  return `${Number(row!.n)}@${Number(row!.head)}`;
}

export interface FuzzReport {
  readonly requests: number;
  readonly statuses: Record<string, number>;
  readonly kinds: Record<string, number>;
  readonly slowestMs: number;
  /** time spent waiting for answers, all requests */
  readonly answerMs: number;
  /** with `collect`: every violation instead of the first */
  readonly failures: string[];
}

/**
 * `runs` generated requests, sequentially (so a change of the history is the request's own).
 * Throws fast-check's report (seed, counterexample, shrunk) on the first violation.
 */
export async function fuzz(options: { port: number; db: Database; target: FuzzTarget; runs: number; seed: number; collect?: boolean }): Promise<FuzzReport> {
  const failures: string[] = [];
  const fail = (message: string) => {
    if (!options.collect) throw new Error(message);
    failures.push(message);
  };
  const statuses: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  let requests = 0;
  let slowestMs = 0;
  let answerMs = 0;
  await fc.assert(
    fc.asyncProperty(requestArbitrary(options.target), async (request) => {
      const before = await history(options.db);
      const answer = await send(options.port, request);
      requests++;
      slowestMs = Math.max(slowestMs, answer.ms);
      answerMs += answer.ms;
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      kinds[request.kind] = (kinds[request.kind] ?? 0) + 1;
      const problem = problemWith(answer);
      if (problem) return fail(`${request.method} ${request.path.slice(0, 200)} [${request.kind}]: ${problem}`);
      if (answer.status >= 400) {
        const after = await history(options.db);
        if (after !== before) fail(`${request.method} ${request.path.slice(0, 200)} [${request.kind}] was rejected with ${answer.status} but the history moved ${before} -> ${after}`);
      }
    }),
    { numRuns: options.runs, seed: options.seed, endOnFailure: false, maxSkipsPerRun: 1 },
  );
  return { requests, statuses, kinds, slowestMs, answerMs, failures };
}

export function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
