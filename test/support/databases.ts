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

/** A scratch database on the shared cluster, unique per call; `drop` removes it. */
export async function scratchDatabase(tag: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mctnas_${tag}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

export const testBackends: readonly TestBackend[] = [
  {
    name: 'postgres',
    async open() {
      const scratch = await scratchDatabase('t');
      const database = new PostgresDatabase(scratch.url);
      await migrate(database);
      const close = database.close.bind(database);
      database.close = async () => {
        await close();
        await scratch.drop();
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
