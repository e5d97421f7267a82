/** A minimal SSE client for the tests: raw HTTP, frames parsed as the EventSource spec does. */
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface SseMessage {
  id: string;
  data: { position: number; type: string; checkpoint: string; data: Record<string, unknown> };
}

/** An SSE client that collects messages; `next(n)` waits until n messages arrived. */
export class SseClient {
  readonly messages: SseMessage[] = [];
  /** comment lines received (`: keep-alive`) */
  comments = 0;
  private response: IncomingMessage | null = null;
  private buffer = '';
  private waiters: (() => void)[] = [];
  status = 0;

  static open(port: number, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Accept: 'text/event-stream', ...headers } }, (response) => {
        client.response = response;
        client.status = response.statusCode ?? 0;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => client.receive(chunk));
        response.on('error', () => undefined);
        resolve(client);
      });
      req.on('error', reject);
      req.end();
    });
  }

  async next(count: number, timeoutMs = 5000): Promise<SseMessage[]> {
    await this.until(() => this.messages.length >= count, timeoutMs, () => `expected ${count} SSE messages, got ${this.messages.length}`);
    return this.messages.slice(0, count);
  }

  /** Waits until `done()` holds after a received chunk (or throws `failure()` after the timeout). */
  async until(done: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(failure());
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.response?.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields = new Map<string, string>();
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) this.comments++;
        const colon = line.indexOf(':');
        if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
      }
      if (fields.has('data')) this.messages.push({ id: fields.get('id')!, data: JSON.parse(fields.get('data')!) });
    }
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
