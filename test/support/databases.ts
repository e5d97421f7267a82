import pg from 'pg';
import type { Database } from '../../src/database/database.js';
import { migrate } from '../../src/database/data-source.js';
import { PgliteDatabase } from '../../src/database/pglite-database.js';
import { PostgresDatabase } from '../../src/database/postgres-database.js';

/**
 * The two real backends every storage test runs against. Postgres: a fresh database per
 * suite, created from DATABASE_URL (default: the local `test` database) and dropped after.
 * PGlite: a fresh in-memory instance.
 */
export interface TestBackend {
  readonly name: 'postgres' | 'pglite';
  open(): Promise<Database>;
}

export const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
let counter = 0;

export const testBackends: readonly TestBackend[] = [
  {
    name: 'postgres',
    async open() {
      const name = `mctnas_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const database = new PostgresDatabase(url.toString());
      await migrate(database);
      const close = database.close.bind(database);
      database.close = async () => {
        await close();
        const cleanup = new pg.Client({ connectionString: adminUrl });
        await cleanup.connect();
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await cleanup.end();
      };
      return database;
    },
  },
  {
    name: 'pglite',
    async open() {
      const database = await PgliteDatabase.open();
      await migrate(database);
      return database;
    },
  },
];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
