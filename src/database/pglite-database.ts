import { PGlite, type Transaction } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import type { Database, QueryOptions, Row, SqlExecutor } from './database.js';
import { SerialQueue } from './serial-queue.js';

/**
 * The embedded default: PGlite persisted in a data directory (or in memory for tests).
 * PGlite has one session, so concurrent transactions would interleave (a rollback in one
 * undoes the other's writes). Every statement and transaction therefore runs through one
 * queue: a transaction owns the session from BEGIN to COMMIT.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private readonly queue = new SerialQueue();

  private constructor(
    private readonly pg: PGlite,
    readonly location: string,
  ) {}

  /**
   * `dataDir` undefined → in memory. `sharedBuffers` (e.g. '16MB'; null: Postgres's 128MB) is set
   * for this start only: Postgres starting inside the wasm prepares its shared memory on the main
   * thread, and 16MB opened an existing database in 0.73x the time of 128MB (3 alternating opens
   * each, load ~9: 3.6, 4.6, 2.9 s against 5.7, 5.0, 4.4 s). Fewer buffers mean more page reads
   * through the file system for logs larger than the cache, which was not measured: an option.
   */
  static async open(dataDir?: string, options: { readonly sharedBuffers?: string | null } = {}): Promise<PgliteDatabase> {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const startParams = options.sharedBuffers ? [...PGlite.defaultStartParams, '-c', `shared_buffers=${options.sharedBuffers}`] : undefined;
    const pg = await PGlite.create(dataDir, startParams ? { startParams } : {});
    return new PgliteDatabase(pg, dataDir ?? 'memory://');
  }

  /**
   * `options.name` is accepted and ignored: PGlite's API has no named prepared statements, so
   * every statement is parsed anew (in-process, ~0.15 ms of a ~2.8 ms per-step append).
   */
  query<R extends Row = Row>(sql: string, params: readonly unknown[] = [], _options?: QueryOptions): Promise<R[]> {
    return this.queue.run(async () => (await this.pg.query<R>(sql, params as unknown[])).rows);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queue.run(() =>
      this.pg.transaction(async (tx: Transaction) =>
        work({ query: async <R extends Row>(sql: string, params: readonly unknown[] = []) => (await tx.query<R>(sql, params as unknown[])).rows }),
      ),
    );
  }

  /**
   * Runs a multi-statement script (no parameters), returning the last statement's rows —
   * used by TypeORM's migration runner through the pool shim.
   */
  exec(sql: string): Promise<{ rows: Row[]; affectedRows?: number }> {
    return this.queue.run(async () => {
      const results = await this.pg.exec(sql);
      return results[results.length - 1] ?? { rows: [] };
    });
  }

  /** A parameterized statement with the driver's full result (rows + affected count). */
  raw(sql: string, params: readonly unknown[]): Promise<{ rows: Row[]; affectedRows?: number }> {
    return this.queue.run(() => this.pg.query<Row>(sql, params as unknown[]));
  }

  /** `COPY ... FROM '/dev/blob'` with the given text as input (bulk loads, benchmarks). */
  async copyFrom(copySql: string, input: string): Promise<void> {
    await this.queue.run(() => this.pg.query(copySql, [], { blob: new Blob([input]) }));
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.queue.run(() => this.pg.listen(channel, onNotify));
    return () => this.queue.run(() => unlisten());
  }

  async close(): Promise<void> {
    await this.queue.run(() => this.pg.close());
  }
}
