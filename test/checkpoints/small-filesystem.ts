import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFilesystem {
  readonly path: string;
  /** Writes `file` until the file system is full (ENOSPC). */
  fill(file: string): void;
  unmount(): void;
}

/**
 * A real tmpfs of `bytes` mounted for a test (needs root, as in CI here); null when this
 * machine does not allow the mount, and the caller skips with that reason.
 */
export async function mountSmallFilesystem(bytes: number): Promise<SmallFilesystem | null> {
  const path = mkdtempSync(join(tmpdir(), 'mctnas-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', path], { stdio: 'ignore' });
  } catch {
    rmdirSync(path);
    return null;
  }
  return {
    path,
    fill(file) {
      const fd = openSync(file, 'w');
      const block = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    unmount() {
      execFileSync('umount', [path], { stdio: 'ignore' });
      rmdirSync(path);
    },
  };
}
