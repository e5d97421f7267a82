/** `npm run migrate`: applies pending migrations to the configured database and exits. */
import { loadConfig } from '../config.js';
import { openDatabase } from './open-database.js';

const config = loadConfig(process.env);
const { database, migrations } = await openDatabase(config);
console.log(migrations.length === 0 ? `${database.location}: schema up to date` : `${database.location}: applied ${migrations.join(', ')}`);
await database.close();
