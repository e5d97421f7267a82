/**
 * Bearer-token authentication. Writes (every method but GET/HEAD/OPTIONS) always need the
 * token; reads need it only with MCTNAS_PROTECT_READS=true. The token comes from
 * MCTNAS_API_TOKEN, else from `<data dir>/api-token`, else it is generated there (mode 0600)
 * on first start; it is never printed.
 *
 * A browser's EventSource cannot send a header, so the live stream also accepts a read ticket
 * in its URL (`?ticket=`): short-lived (60 s to connect), good for one experiment's stream
 * only, issued by `POST /auth/sse-ticket` to a token holder. A ticket is an HMAC of its expiry
 * and scope under a key derived from the token, so every replica sharing the token checks it
 * without shared state, and rotating the token voids every ticket. The token itself never
 * travels in a URL (URLs end up in proxy logs, browser history and Referer headers).
 */
import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** How long a read ticket may be used to connect. */
export const TICKET_TTL_MS = 60_000;
const TICKET_VERSION = 't1';

/** Marks a read route that also accepts `?ticket=` (the SSE stream). */
const ACCEPTS_TICKET = 'mctnas:acceptsTicket';
export const AcceptsReadTicket = () => SetMetadata(ACCEPTS_TICKET, true);

/** What a request carries, as far as authentication goes. */
interface AuthRequest extends IncomingMessage {
  readonly query?: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
}

@Injectable()
export class ApiAuthGuard implements CanActivate {
  private readonly digest: Buffer;
  private readonly ticketKey: Buffer;

  constructor(
    @Inject(API_AUTH) private readonly auth: ApiAuth,
    private readonly reflector: Reflector,
  ) {
    this.digest = sha256(auth.token);
    this.ticketKey = sha256(`mctnas read ticket\0${auth.token}`);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const isRead = READ_METHODS.has(request.method ?? 'GET');
    if (isRead && !this.auth.protectReads) return true;
    if (this.presentsToken(request)) return true;
    if (isRead && this.reflector.get<boolean>(ACCEPTS_TICKET, context.getHandler()) && this.presentsTicket(request)) return true;
    throw new UnauthorizedError(isRead ? 'reads need the API bearer token on this service' : 'writes need the API bearer token (Authorization: Bearer <token>)');
  }

  /** Whether the request proves it may read everything (lease ids included): the token, or a ticket for this stream. */
  authenticated(request: AuthRequest): boolean {
    return this.presentsToken(request) || this.presentsTicket(request);
  }

  /** A read ticket for one experiment's live stream, valid to connect for TICKET_TTL_MS. */
  issueTicket(experimentId: string, now = Date.now()): { ticket: string; expiresAt: string } {
    const expires = now + TICKET_TTL_MS;
    const payload = `${TICKET_VERSION}.${expires.toString(36)}.${Buffer.from(experimentId, 'utf8').toString('base64url')}`;
    return { ticket: `${payload}.${this.sign(payload)}`, expiresAt: new Date(expires).toISOString() };
  }

  private presentsToken(request: IncomingMessage): boolean {
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    // Comparing fixed-length digests keeps the comparison constant-time whatever the length
    // of the presented token.
    return match !== null && timingSafeEqual(sha256(match[1]!), this.digest);
  }

  private presentsTicket(request: AuthRequest): boolean {
    const ticket = request.query?.ticket;
    const experimentId = request.params?.id;
    if (typeof ticket !== 'string' || typeof experimentId !== 'string' || ticket.length > 1024) return false;
    const parts = ticket.split('.');
    if (parts.length !== 4 || parts[0] !== TICKET_VERSION) return false;
    const signature = Buffer.from(parts[3]!, 'base64url');
    const expected = Buffer.from(this.sign(parts.slice(0, 3).join('.')), 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return false;
    return parseInt(parts[1]!, 36) > Date.now() && Buffer.from(parts[2]!, 'base64url').toString('utf8') === experimentId;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.ticketKey).update(payload, 'utf8').digest('base64url');
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
