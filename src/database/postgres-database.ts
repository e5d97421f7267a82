import pg from 'pg';
import type { Database, Row, SqlExecutor } from './database.js';

/** Postgres through a `pg` pool, with one shared connection for LISTEN. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private listenClient: Promise<pg.Client> | null = null;

  constructor(readonly url: string, poolSize = 10) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize });
    // An idle client's error (e.g. server restart) must not crash the process; the pool drops it.
    this.pool.on('error', () => undefined);
    this.location = redactUrl(url);
  }

  async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params as unknown[])).rows;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await work({ query: async <R extends Row>(sql: string, params: readonly unknown[] = []) => (await client.query<R>(sql, params as unknown[])).rows });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
      throw error;
    } finally {
      // A connection whose rollback failed is in an unknown state: destroy it instead of reusing it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    assertChannel(channel);
    const client = await this.ensureListenClient();
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await client.query(`LISTEN ${channel}`);
    }
    set.add(onNotify);
    return async () => {
      const current = this.listeners.get(channel);
      if (!current?.delete(onNotify) || current.size > 0) return;
      this.listeners.delete(channel);
      if (this.listeners.size === 0) await this.releaseListenClient();
      else await client.query(`UNLISTEN ${channel}`).catch(() => undefined);
    };
  }

  /** Open LISTEN connections (0 or 1): lets tests check that unsubscribing releases it. */
  get listenConnections(): number {
    return this.listenClient ? 1 : 0;
  }

  async close(): Promise<void> {
    await this.releaseListenClient();
    await this.pool.end();
  }

  private ensureListenClient(): Promise<pg.Client> {
    if (!this.listenClient) {
      const client = new pg.Client({ connectionString: this.url });
      client.on('notification', (message) => {
        for (const callback of this.listeners.get(message.channel) ?? []) callback(message.payload ?? '');
      });
      // On a dropped connection, forget it: subscribers keep polling, and the next listen reconnects.
      client.on('error', () => {
        this.listenClient = null;
        this.listeners.clear();
      });
      this.listenClient = client.connect().then(() => client);
      this.listenClient.catch(() => {
        this.listenClient = null;
      });
    }
    return this.listenClient;
  }

  private async releaseListenClient(): Promise<void> {
    const pending = this.listenClient;
    this.listenClient = null;
    this.listeners.clear();
    if (pending) await (await pending.catch(() => null))?.end().catch(() => undefined);
  }
}

function assertChannel(channel: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid NOTIFY channel name '${channel}'`);
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
