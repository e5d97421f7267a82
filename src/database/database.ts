/**
 * The one port through which the service talks SQL. Two adapters: Postgres (pg pool) and the
 * embedded PGlite default. Runtime writes go through this port rather than TypeORM's query
 * runners because PGlite has a single session: every transaction must be serialized, which
 * the PGlite adapter does with one queue.
 */
import { DomainError } from '../kernel/domain-error.js';

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * Run as a named prepared statement: parsed and planned once per connection, then only bound
   * and executed (the hot append). A name stands for one SQL text for the process's lifetime.
   */
  readonly name?: string;
}

export interface SqlExecutor {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<R[]>;
}

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database extends SqlExecutor {
  readonly kind: DatabaseKind;
  /** Human-readable location (URL without password, or data directory). */
  readonly location: string;
  /**
   * Runs `work` in one transaction: commit when it resolves, roll back when it throws.
   * Inside `work`, use only the `tx` executor (on PGlite the outer executor would wait for
   * this very transaction to finish).
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * 64-bit integers come back as strings from pg and as numbers (BigInt past 2^53) from PGlite.
 * Positions and versions in this service stay far below 2^53, so they are normalized to numbers;
 * anything larger is a bug and fails loudly.
 */
export function toSafeInteger(value: unknown, what: string): number {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new Error(`${what}: expected a safe integer, got ${String(value)}`);
  }
  return n;
}

/** xid8 values are kept as decimal strings (they are 64-bit); compared via BigInt. */
export function toXid(value: unknown, what: string): string {
  if (typeof value === 'string' && /^\d+$/.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'bigint' && value >= 0n) return value.toString();
  throw new Error(`${what}: expected a transaction id, got ${String(value)}`);
}

/** Postgres SQLSTATE of a driver error, if any (pg and PGlite both expose `.code`). */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The database cannot be reached right now (stopped, restarting, network down): 503, retry
 * later. Raised by the Postgres adapter in place of the driver's connection errors, so the API
 * answers 503 instead of 500 and workers know to wait instead of giving up.
 */
export class DatabaseUnavailableError extends DomainError {
  constructor(cause: unknown) {
    super('unavailable', 'DatabaseUnavailable', `the database is unavailable, retry later (${(cause as Error)?.message ?? String(cause)})`, undefined, { cause });
  }
}

/**
 * SQLSTATEs and driver/socket codes meaning "the server is not there" rather than "the
 * statement is wrong": class 08 (connection exception), 57P01-57P03 (terminated by an
 * administrator or a shutdown, cannot connect now: starting up or shutting down).
 */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ENOENT', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** What `pg` says when the socket closes under a query, or a connection attempt times out. */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Connection terminated unexpectedly)/;

/** Whether `error` (or its cause) means the database could not be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (UNAVAILABLE_MESSAGES.test(String((e as { message?: unknown }).message ?? ''))) return true;
  }
  return false;
}
