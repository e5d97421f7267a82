import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface WrittenCheckpoint {
  readonly location: string;
  readonly sha256: string;
  readonly size: number;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where the weights of `experimentId` after step `step` are kept. */
export function checkpointPath(directory: string, experimentId: string, step: number): string {
  return join(directory, experimentId, `step-${String(step).padStart(9, '0')}.ckpt`);
}

/**
 * Writes atomically: temp file, fsync, rename, fsync of the directory. A crash at any instant
 * leaves either the previous file or the complete new one, never a torn file under the name.
 */
export function writeCheckpointFile(location: string, bytes: Uint8Array): WrittenCheckpoint {
  mkdirSync(dirname(location), { recursive: true });
  const temp = `${location}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, location);
  const dir = openSync(dirname(location), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return { location, sha256: sha256(bytes), size: bytes.length };
}

/** The file's bytes when it exists and its hash matches; otherwise the reason it is unusable. */
export function readVerifiedCheckpoint(location: string, expectedSha256: string): { bytes: Uint8Array } | { problem: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(location);
  } catch (error) {
    return { problem: `cannot read ${location}: ${(error as Error).message}` };
  }
  const actual = sha256(bytes);
  return actual === expectedSha256 ? { bytes } : { problem: `${location}: sha256 ${actual} does not match the recorded ${expectedSha256}` };
}
