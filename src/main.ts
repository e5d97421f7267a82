/**
 * `npm start`: the HTTP service on the configured database (embedded PGlite by default) plus
 * the default experiment, created on first start and resumed on every later one.
 */
import { loadConfig } from './config.js';
import { runDefaultJob } from './cli/default-job.js';

await runDefaultJob(loadConfig(process.env));
