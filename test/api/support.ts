import { Test } from '@nestjs/testing';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { configureHttpApi } from '../../src/api/shared/http.js';
import { AppModule } from '../../src/app.module.js';
import type { AppConfig } from '../../src/config.js';
import type { Database } from '../../src/database/database.js';
import type { StoredEvent } from '../../src/events/stored-event.js';
import { fold } from '../../src/tree/evolve.js';
import { toPlain } from '../../src/tree/state.js';
import type { TestBackend } from '../support/databases.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const auth = { Authorization: `Bearer ${TOKEN}` };

/** A small NAS-Bench-Macro run: 20 warm-up, 80 tree-building and 200 MCT steps. */
export const smallRun = {
  name: 'api-spec',
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 10, warmupSteps: 20, treeBuildingSteps: 80, mctSteps: 200 },
  dataset: { kind: 'synthetic' },
  seed: 11,
};

/** A deterministic synthetic loss with signal: more expressive ops (higher index) train better. */
export const syntheticLoss = (architecture: readonly number[], step: number) =>
  2.3 - architecture.reduce((a, b) => a + b, 0) * 0.06 + ((step * 7919) % 13) * 0.01;

export interface ApiHarness {
  readonly app: INestApplication;
  readonly db: Database;
  readonly http: ReturnType<typeof supertest>;
  readonly config: AppConfig;
  close(): Promise<void>;
}

/** The full application (AppModule + HTTP setup) on a fresh database of `backend`. */
export async function startApi(backend: TestBackend, overrides: Partial<AppConfig> = {}, extra: ModuleMetadata['imports'] = []): Promise<ApiHarness> {
  const db = await backend.open();
  const config: AppConfig = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: null,
    dataDir: mkdtempSync(join(tmpdir(), 'mctnas-api-')),
    logLevel: 'silent',
    workerId: null,
    apiToken: TOKEN,
    protectReads: false,
    bodyLimitBytes: 64 * 1024,
    ...overrides,
  };
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.create(config, db), ...extra] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configureHttpApi(app, config);
  await app.init();
  return { app, db, http: supertest(app.getHttpServer()), config, close: () => app.close() };
}

export async function countEvents(db: Database): Promise<number> {
  const [row] = await db.query<{ n: unknown }>('SELECT count(*) AS n FROM events');
  return Number(row!.n);
}

export interface SubtreeJson {
  path: string;
  n: number;
  s: number;
  g: number | null;
  probability: number | null;
  children?: SubtreeJson[];
}

/** Every node of an API subtree as path -> (n, S). */
export function flatten(node: SubtreeJson | null, into = new Map<string, { n: number; s: number }>()) {
  if (!node) return into;
  into.set(node.path, { n: node.n, s: node.s });
  for (const child of node.children ?? []) flatten(child, into);
  return into;
}

export function rebuilt(events: readonly StoredEvent[]) {
  const plain = toPlain(fold(events));
  return { nodes: new Map(plain.nodes.map((node) => [node.path, { n: node.n, s: node.s }])), g: plain.g, position: plain.position };
}
