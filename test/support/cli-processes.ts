/**
 * The CLI as separate processes (`mctnas worker`, `mctnas serve`) and a bare HTTP/SSE client
 * for them: what the pool, outage and scale tests and the scale benchmark drive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './databases.js';
import { repoRoot } from './paths.js';

export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  /** the exit code (null: killed by a signal) */
  readonly exited: Promise<number | null>;
}

/** Starts `mctnas <args>` with its own data directory (unless `env` names one), logs silent. */
export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, LOG_LEVEL: 'silent', MCTNAS_DATA_DIR: mkdtempSync(join(tmpdir(), 'mctnas-cli-')), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Starts `mctnas serve` on a free port and resolves once it listens, with its URL. */
export async function startServe(env: Record<string, string>): Promise<CliProcess & { url: string }> {
  const serve = startCli(['serve'], { PORT: '0', ...env });
  for (let t = 0; t < 600 && !/listening on (http:\/\/\S+)/.test(serve.output()); t++) await sleep(100);
  const url = /listening on (http:\/\/\S+)/.exec(serve.output())?.[1];
  if (!url) throw new Error(`mctnas serve did not start:\n${serve.output()}`);
  return { ...serve, url };
}

/** One JSON request; `token` goes into the Authorization header. */
export function http(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(payload ? { 'Content-Type': 'application/json' } : {}) };
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let parsed: unknown = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode!, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface SseMessage {
  readonly id: string;
  readonly data: any;
}

/** Reads SSE messages from `url` until `until(received)` holds (or `close()`); `received` is live. */
export function sse(url: string, until: (received: readonly SseMessage[]) => boolean): { messages: Promise<SseMessage[]>; received: readonly SseMessage[]; close(): void } {
  const got: SseMessage[] = [];
  let close = () => {};
  const messages = new Promise<SseMessage[]>((resolve, reject) => {
    const req = request(url, { headers: { Accept: 'text/event-stream' } }, (res) => {
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const id = /^id: ?(.*)$/m.exec(block)?.[1];
          const data = /^data: ?(.*)$/m.exec(block)?.[1];
          if (id && data) got.push({ id, data: JSON.parse(data) });
          if (until(got)) {
            req.destroy();
            resolve(got);
            return;
          }
        }
      });
      res.on('end', () => resolve(got));
    });
    req.on('error', (error) => (until(got) ? undefined : reject(error)));
    req.end();
    close = () => {
      req.destroy();
      resolve(got);
    };
  });
  return { messages, received: got, close: () => close() };
}
