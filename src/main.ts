import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { loadConfig } from './config.js';
import { openDatabase } from './database/open-database.js';
import { createLogger, PinoNestLogger } from './logging/logger.js';

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const { database, migrations } = await openDatabase(config);
logger.info({ database: database.kind, location: database.location, migrations }, 'database ready');

const app = await NestFactory.create(AppModule.create(config, database), { logger: new PinoNestLogger(logger) });
app.enableShutdownHooks();
await app.listen(config.port, config.host);
const url = `http://${config.host}:${(app.getHttpServer().address() as { port: number }).port}`;
logger.info({ url }, 'mctnas service listening');
console.log(`mctnas service listening on ${url} (database: ${database.kind} ${database.location})`);
