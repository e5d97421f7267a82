import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Database, DatabaseUnavailableError, isDatabaseUnavailable, type QueryOptions, type Row, type SqlExecutor } from './database.js';

export interface PostgresOptions {
  readonly poolSize?: number;
  /** a connection attempt fails after this long (a host that does not answer at all); default 5 s */
  readonly connectTimeoutMs?: number;
  /**
   * Wait out outages (workers): a statement whose connection cannot be opened — the server is
   * stopped, restarting or unreachable, so nothing was sent — is retried with backoff (0.25 s
   * doubling up to 5 s) until the server answers, instead of failing. Off (the API): it fails at
   * once with DatabaseUnavailableError, which the API answers with 503.
   */
  readonly waitForServer?: boolean;
  /** told when the server stops answering and when it answers again (at most once per outage) */
  readonly onOutage?: (event: { readonly state: 'down'; readonly error: string } | { readonly state: 'up'; readonly downForMs: number }) => void;
}

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 5_000;
const backoffMs = (attempt: number) => Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 10));

/**
 * Postgres through a `pg` pool, with one shared connection for LISTEN.
 *
 * Outages: the driver's connection errors (refused, reset, terminated by a shutdown, "starting
 * up") become DatabaseUnavailableError (kind `unavailable`: 503). The pool drops broken
 * connections and opens new ones once the server is back; the LISTEN connection reconnects by
 * itself with backoff, LISTENs again on every channel and then wakes every listener once,
 * since notifications sent while it was down are lost.
 */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly options: PostgresOptions;
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private listenClient: Promise<pg.Client> | null = null;
  private listenReconnect: NodeJS.Timeout | null = null;
  private readonly closing = new AbortController();
  private downSince: number | null = null;

  constructor(
    readonly url: string,
    options: PostgresOptions | number = {},
  ) {
    this.options = typeof options === 'number' ? { poolSize: options } : options;
    this.pool = new pg.Pool({ connectionString: url, max: this.options.poolSize ?? 10, connectionTimeoutMillis: this.connectTimeoutMs, keepAlive: true });
    // An idle client's error (e.g. server restart) must not crash the process; the pool drops it.
    this.pool.on('error', () => undefined);
    // Nor may a checked-out one's between two statements (the server terminated it): the next
    // statement on it fails as DatabaseUnavailable and it is destroyed on release.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.location = redactUrl(url);
  }

  async query<R extends Row = Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<R[]> {
    const client = await this.connect();
    let broken: unknown;
    try {
      return (await run<R>(client, sql, params, options)).rows;
    } catch (error) {
      if (isDatabaseUnavailable(error)) broken = error;
      throw translate(error);
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await work({ query: async <R extends Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}) => (await run<R>(client, sql, params, options)).rows });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
      throw translate(error);
    } finally {
      // A connection whose rollback failed is in an unknown state: destroy it instead of reusing it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    assertChannel(channel);
    let set = this.listeners.get(channel);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(onNotify);
    try {
      const client = await this.ensureListenClient();
      if (first) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await this.unlisten(channel, onNotify);
      throw translate(error);
    }
    return () => this.unlisten(channel, onNotify);
  }

  /** Open LISTEN connections (0 or 1): lets tests check that unsubscribing releases it. */
  get listenConnections(): number {
    return this.listenClient ? 1 : 0;
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.listeners.clear();
    await this.releaseListenClient();
    await this.pool.end();
  }

  private get connectTimeoutMs(): number {
    return this.options.connectTimeoutMs ?? 5_000;
  }

  /** A pool connection; while the server cannot be reached, waits for it (`waitForServer`) or throws DatabaseUnavailableError. */
  private async connect(): Promise<pg.PoolClient> {
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await this.pool.connect();
        this.noteUp();
        return client;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        this.noteDown(error);
        if (!this.options.waitForServer || this.closing.signal.aborted) throw new DatabaseUnavailableError(error);
        try {
          await sleep(backoffMs(attempt), undefined, { signal: this.closing.signal });
        } catch {
          throw new DatabaseUnavailableError(error);
        }
      }
    }
  }

  private noteDown(error: unknown): void {
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    this.options.onOutage?.({ state: 'down', error: (error as Error)?.message ?? String(error) });
  }

  private noteUp(): void {
    if (this.downSince === null) return;
    const downForMs = Date.now() - this.downSince;
    this.downSince = null;
    this.options.onOutage?.({ state: 'up', downForMs });
  }

  private async unlisten(channel: string, onNotify: (payload: string) => void): Promise<void> {
    const current = this.listeners.get(channel);
    if (!current?.delete(onNotify) || current.size > 0) return;
    this.listeners.delete(channel);
    if (this.listeners.size === 0) await this.releaseListenClient();
    else await (await this.listenClient?.catch(() => null))?.query(`UNLISTEN ${channel}`).catch(() => undefined);
  }

  private ensureListenClient(): Promise<pg.Client> {
    if (!this.listenClient) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs, keepAlive: true });
      client.on('notification', (message) => {
        for (const callback of this.listeners.get(message.channel) ?? []) callback(message.payload ?? '');
      });
      const pending = client.connect().then(() => client);
      // A dropped connection (server restart): forget it and reconnect while anyone listens.
      const dropped = () => {
        if (this.listenClient !== pending) return;
        this.listenClient = null;
        void client.end().catch(() => undefined);
        this.reconnectListeners(0);
      };
      client.on('error', dropped);
      client.on('end', dropped);
      this.listenClient = pending;
      pending.catch(() => {
        if (this.listenClient === pending) this.listenClient = null;
      });
    }
    return this.listenClient;
  }

  /** Reconnects the LISTEN connection, LISTENs on every channel again, then wakes every listener (what was sent meanwhile is lost). */
  private reconnectListeners(attempt: number): void {
    if (this.listenReconnect || this.listeners.size === 0 || this.closing.signal.aborted) return;
    this.listenReconnect = setTimeout(() => {
      this.listenReconnect = null;
      if (this.listeners.size === 0 || this.closing.signal.aborted || this.listenClient) return;
      this.ensureListenClient()
        .then(async (client) => {
          for (const channel of this.listeners.keys()) await client.query(`LISTEN ${channel}`);
          for (const callbacks of this.listeners.values()) for (const callback of callbacks) callback('');
        })
        .catch(() => this.reconnectListeners(attempt + 1));
    }, backoffMs(attempt));
    this.listenReconnect.unref();
  }

  private async releaseListenClient(): Promise<void> {
    if (this.listenReconnect) clearTimeout(this.listenReconnect);
    this.listenReconnect = null;
    const pending = this.listenClient;
    this.listenClient = null;
    if (pending) await (await pending.catch(() => null))?.end().catch(() => undefined);
  }
}

/** A statement on `client`; a named one is prepared on the connection's first use of the name (pg remembers it per connection). */
function run<R extends Row>(client: pg.ClientBase, sql: string, params: readonly unknown[], options: QueryOptions): Promise<pg.QueryResult<R>> {
  return options.name === undefined ? client.query<R>(sql, params as unknown[]) : client.query<R>({ name: options.name, text: sql, values: params as unknown[] });
}

/** The driver's connection failures as DatabaseUnavailableError; anything else as it is. */
function translate(error: unknown): unknown {
  return isDatabaseUnavailable(error) && !(error instanceof DatabaseUnavailableError) ? new DatabaseUnavailableError(error) : error;
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
