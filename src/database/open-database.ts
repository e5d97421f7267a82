import { resolve } from 'node:path';
import type { Database } from './database.js';
import { migrate } from './data-source.js';
import { PgliteDatabase } from './pglite-database.js';
import { PostgresDatabase } from './postgres-database.js';

export interface DatabaseSettings {
  /** Postgres URL; when absent the embedded PGlite database in `dataDir` is used. */
  readonly databaseUrl?: string | null;
  readonly dataDir: string;
}

/** Opens the configured database and applies pending migrations. */
export async function openDatabase(settings: DatabaseSettings): Promise<{ database: Database; migrations: string[] }> {
  const database = settings.databaseUrl
    ? new PostgresDatabase(settings.databaseUrl)
    : await PgliteDatabase.open(resolve(settings.dataDir, 'pglite'));
  try {
    return { database, migrations: await migrate(database) };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}
