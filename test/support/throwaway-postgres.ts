/**
 * A Postgres cluster of the test's own, in a temporary folder on a free port (`initdb` +
 * `pg_ctl`), for tests that stop and restart the database: the shared cluster is never touched.
 * Binaries: `MCTNAS_PG_BIN`, else the newest /usr/lib/postgresql/<version>/bin. Postgres refuses
 * to run as root, so under root the cluster runs as the `postgres` user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ThrowawayPostgres {
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m fast`: running sessions are terminated, as in a server restart */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** stops the server and removes its folder */
  destroy(): Promise<void>;
}

/** Where initdb and pg_ctl are, or null (the caller skips, saying why). */
export function postgresBinaries(): string | null {
  if (process.env.MCTNAS_PG_BIN) return existsSync(join(process.env.MCTNAS_PG_BIN, 'pg_ctl')) ? process.env.MCTNAS_PG_BIN : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function throwawayPostgres(bin: string): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'mctnas-pg-'));
  const asRoot = process.getuid?.() === 0;
  const command = (tool: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args]);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  await run(...command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']));
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = (args: string[]) => run(...command('pg_ctl', ['-D', data, ...args]));
  const stopNow = () => {
    try {
      execFileSync(...command('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    } catch {
      // not running
    }
  };
  // A test that dies must not leave a server behind.
  process.once('exit', stopNow);
  const start = async () => {
    await pgCtl(['-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop: async () => {
      await pgCtl(['-m', 'fast', '-w', 'stop']);
    },
    destroy: async () => {
      process.off('exit', stopNow);
      stopNow();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
