import { z } from 'zod';
import { DEFAULT_RETENTION, type RetentionPolicy } from './checkpoints/retention.js';

/** Service configuration from the environment, validated once at start. */
const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  MCTNAS_DATA_DIR: z.string().min(1).default('./.mctnas'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MCTNAS_WORKER_ID: z.string().min(1).optional(),
  /** bearer token for the HTTP API; unset: generated at first start and kept in the data dir */
  MCTNAS_API_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** also require the token for reads (writes always require it) */
  MCTNAS_PROTECT_READS: z.stringbool().default(false),
  /** largest accepted JSON request body, in bytes */
  MCTNAS_API_BODY_LIMIT: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** an SSE comment line is sent on every live stream this often, so proxies keep idle streams open */
  MCTNAS_SSE_KEEPALIVE_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  /** checkpoint retention: keep the newest N (`all`: every one) */
  MCTNAS_CHECKPOINT_KEEP_LAST: z
    .union([z.literal('all').transform(() => null), z.coerce.number().int().min(1)])
    .default(DEFAULT_RETENTION.keepLast),
  /** checkpoint retention: also keep every checkpoint whose step + 1 is a multiple of K (unset: none) */
  MCTNAS_CHECKPOINT_KEEP_EVERY: z.coerce.number().int().min(1).optional().or(z.literal('').transform(() => undefined)),
  /** embedded database only: Postgres's shared_buffers inside PGlite (unset: Postgres's 128MB) */
  MCTNAS_PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, 'must be a size such as 16MB')
    .optional()
    .or(z.literal('').transform(() => undefined)),
});

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  readonly workerId: string | null;
  readonly apiToken: string | null;
  readonly protectReads: boolean;
  readonly bodyLimitBytes: number;
  /** interval of the SSE keep-alive comment (default 15 s) */
  readonly sseKeepAliveMs?: number;
  /** retention of the checkpoints this installation's trainers write (per run: `train --keep-last/--keep-every`) */
  readonly checkpointRetention?: RetentionPolicy;
  /** embedded database only: shared_buffers inside PGlite, e.g. '16MB' (null: Postgres's default, 128MB) */
  readonly pgliteSharedBuffers?: string | null;
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: e.MCTNAS_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    workerId: e.MCTNAS_WORKER_ID ?? null,
    apiToken: e.MCTNAS_API_TOKEN ?? null,
    protectReads: e.MCTNAS_PROTECT_READS,
    bodyLimitBytes: e.MCTNAS_API_BODY_LIMIT,
    sseKeepAliveMs: e.MCTNAS_SSE_KEEPALIVE_MS,
    checkpointRetention: { keepLast: e.MCTNAS_CHECKPOINT_KEEP_LAST, keepEvery: e.MCTNAS_CHECKPOINT_KEEP_EVERY ?? null },
    pgliteSharedBuffers: e.MCTNAS_PGLITE_SHARED_BUFFERS ?? null,
  };
}
