/**
 * `npm start`: the HTTP service on the configured database (embedded PGlite by default) plus
 * the default experiment, created on first start and resumed on every later one.
 *
 * The database starts opening before the service's modules are imported (dynamically, below),
 * so PGlite's off-thread part (its wasm compile, file reads) overlaps the imports.
 */
// First: decorators evaluate Reflect.getOwnMetadata as their modules load, and in the bundle
// (scripts/build-server.mjs) a chunk of Nest can load before the module that imports it.
import 'reflect-metadata';
import { loadConfig } from './config.js';
import { connectDatabase } from './database/open-database.js';

const config = loadConfig(process.env);
const connecting = connectDatabase(config);
// Awaited by startService; a failure while the imports run must not count as unhandled.
connecting.catch(() => undefined);
const { runDefaultJob } = await import('./cli/default-job.js');
await runDefaultJob(config, connecting);
