import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Database } from './database.js';
import { migrate } from './data-source.js';
import { PgliteDatabase } from './pglite-database.js';
import { PostgresDatabase, type PostgresOptions } from './postgres-database.js';

export interface DatabaseSettings {
  /** Postgres URL; when absent the embedded PGlite database in `dataDir` is used. */
  readonly databaseUrl?: string | null;
  readonly dataDir: string;
  /** Postgres only: how outages are met (workers wait them out; the API answers 503) */
  readonly postgres?: PostgresOptions;
  /** PGlite only: its shared_buffers (MCTNAS_PGLITE_SHARED_BUFFERS) */
  readonly pgliteSharedBuffers?: string | null;
}

/**
 * Opens the configured database without migrating it. `npm start` starts this before importing
 * the rest of the service, so PGlite's wasm compile (off the main thread) and file reads overlap
 * module loading; Postgres starting inside the wasm runs on the main thread and does not.
 */
export async function connectDatabase(settings: DatabaseSettings): Promise<Database> {
  if (settings.databaseUrl) return new PostgresDatabase(settings.databaseUrl, settings.postgres);
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const database = await PgliteDatabase.open(resolve(settings.dataDir, 'pglite'), { sharedBuffers: settings.pgliteSharedBuffers ?? null });
  makePrivate(settings.dataDir);
  return database;
}

/** Opens the configured database (or takes one `connectDatabase` started) and applies pending migrations. */
export async function openDatabase(settings: DatabaseSettings, connecting: Promise<Database> = connectDatabase(settings)): Promise<{ database: Database; migrations: string[] }> {
  const database = await connecting;
  try {
    return { database, migrations: await migrate(database) };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The data directory holds the whole event store, the checkpoints and the API token: only its
 * owner may read it. Run after the embedded database opened (PGlite does not start under a
 * 077 umask): dirs become 0700, files 0600; files PGlite creates later inherit the 0700
 * directories' protection.
 */
export function makePrivate(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stack = [resolve(dataDir)];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) {
      if ((stat.mode & 0o077) !== 0) chmodSync(path, 0o700);
      for (const name of readdirSync(path)) stack.push(join(path, name));
    } else if ((stat.mode & 0o077) !== 0) chmodSync(path, stat.mode & 0o700);
  }
}
