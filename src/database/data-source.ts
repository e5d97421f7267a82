import { EventEmitter } from 'node:events';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import type { Database } from './database.js';
import { PgliteDatabase } from './pglite-database.js';
import { PostgresDatabase } from './postgres-database.js';

/**
 * A TypeORM DataSource over the same database the service uses. TypeORM owns the schema
 * (migration classes in migrations/); the runtime event store talks SQL through the
 * `Database` port.
 */
async function createDataSource(database: Database): Promise<DataSource> {
  // Loaded only when a migration is pending: TypeORM is ~70 modules, a third of a restart's imports.
  const { DataSource } = await import('typeorm');
  const common = { type: 'postgres', migrations, migrationsTableName: MIGRATIONS_TABLE, logging: false } as const;
  if (database instanceof PostgresDatabase) {
    return new DataSource({ ...common, url: database.url, poolSize: 2 } as DataSourceOptions);
  }
  if (database instanceof PgliteDatabase) {
    return new DataSource({ ...common, driver: pgliteDriverFor(database) } as DataSourceOptions);
  }
  throw new Error(`no TypeORM driver for database kind ${database.kind}`);
}

const MIGRATIONS_TABLE = 'schema_migrations';

/** Applies pending migrations; returns their names. Idempotent. */
export async function migrate(database: Database): Promise<string[]> {
  if (await upToDate(database)) return [];
  const dataSource = await createDataSource(database);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    // For PGlite the shim's end() is a no-op: the Database owns the PGlite instance.
    await dataSource.destroy();
  }
}

/**
 * Whether every migration is recorded in TypeORM's table already (one query, no TypeORM): the
 * common case of a restart. Anything else, including a missing table, goes through TypeORM.
 */
async function upToDate(database: Database): Promise<boolean> {
  const [table] = await database.query<{ found: string | null }>(`SELECT to_regclass($1)::text AS found`, [MIGRATIONS_TABLE]);
  if (!table?.found) return false;
  const applied = new Set((await database.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`)).map((row) => row.name));
  return migrations.every((migration) => applied.has(new migration().name));
}

/**
 * TypeORM's postgres driver accepts a `driver` module exposing `Pool`. This shim routes its
 * queries into the PGlite adapter's queue so they never interleave with the service's own
 * transactions. Migrations run before anything else starts, so TypeORM's BEGIN/COMMIT
 * statements, queued one by one, are not interleaved with other work.
 */
function pgliteDriverFor(database: PgliteDatabase): { Pool: new () => EventEmitter } {
  type Callback = (error: Error | null, result?: unknown) => void;
  class PglitePool extends EventEmitter {
    connect(callback: (error: Error | null, client: unknown, release: () => void) => void): void {
      callback(null, this, () => undefined);
    }
    query(sql: string, paramsOrCallback?: unknown[] | Callback, maybeCallback?: Callback): Promise<unknown> {
      const params = Array.isArray(paramsOrCallback) ? paramsOrCallback : [];
      const callback = typeof paramsOrCallback === 'function' ? paramsOrCallback : maybeCallback;
      const run = params.length > 0 ? database.raw(sql, params) : database.exec(sql);
      return run.then(
        (result) => {
          const shaped = { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
          callback?.(null, shaped);
          return shaped;
        },
        (error: Error) => {
          callback?.(error);
          if (!callback) throw error;
        },
      );
    }
    release(): void {}
    end(callback?: (error: Error | null) => void): void {
      callback?.(null);
    }
  }
  return { Pool: PglitePool };
}
