/**
 * Bearer-token authentication. Writes (every method but GET/HEAD/OPTIONS) always need the
 * token; reads need it only with MCTNAS_PROTECT_READS=true. The token comes from
 * MCTNAS_API_TOKEN, else from `<data dir>/api-token`, else it is generated there (mode 0600)
 * on first start and printed once by main.ts.
 */
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import type { AppConfig } from '../../config.js';
import { UnauthorizedError } from './errors.js';

export const API_AUTH = Symbol('ApiAuth');

export interface ApiAuth {
  readonly token: string;
  readonly protectReads: boolean;
  /** where the token came from; 'generated' means it was created by this start */
  readonly source: 'config' | 'file' | 'generated';
  /** the token file, when the token lives in one */
  readonly file: string | null;
}

export const API_TOKEN_FILE = 'api-token';

export function resolveApiAuth(config: Pick<AppConfig, 'apiToken' | 'protectReads' | 'dataDir'>): ApiAuth {
  const protectReads = config.protectReads;
  if (config.apiToken) return { token: config.apiToken, protectReads, source: 'config', file: null };
  const file = resolve(config.dataDir, API_TOKEN_FILE);
  const stored = readToken(file);
  if (stored) return { token: stored, protectReads, source: 'file', file };
  mkdirSync(config.dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  try {
    // 'wx': of two processes starting at once, exactly one creates the file.
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const raced = (error as NodeJS.ErrnoException).code === 'EEXIST' ? readToken(file) : null;
    if (!raced) throw error;
    return { token: raced, protectReads, source: 'file', file };
  }
  return { token, protectReads, source: 'generated', file };
}

function readToken(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (text.length < 16) throw new Error(`the API token in ${file} is shorter than 16 characters: fix or delete the file`);
  return text;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

@Injectable()
export class ApiAuthGuard implements CanActivate {
  private readonly digest: Buffer;

  constructor(@Inject(API_AUTH) private readonly auth: ApiAuth) {
    this.digest = sha256(auth.token);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    const isRead = READ_METHODS.has(request.method ?? 'GET');
    if (isRead && !this.auth.protectReads) return true;
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    // Comparing fixed-length digests keeps the comparison constant-time whatever the length
    // of the presented token.
    if (!match || !timingSafeEqual(sha256(match[1]!), this.digest)) {
      throw new UnauthorizedError(isRead ? 'reads need the API bearer token on this service' : 'writes need the API bearer token (Authorization: Bearer <token>)');
    }
    return true;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
