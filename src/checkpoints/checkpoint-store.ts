/**
 * The checkpoint storage port. A trainer stores weight images through a `CheckpointStore` and
 * records what the store answered (location, sha256, size) in `CheckpointSaved`; a resume reads
 * them back through the same port and trusts only bytes whose sha256 matches the recorded one.
 *
 * Adapters: the local directory (`src/adapters/filesystem`, the default) and an in-process
 * object store (`src/adapters/memory`) with an object store's semantics (whole-object put, no
 * rename, no directories). Both pass one contract (test/checkpoints/store-contract.ts), which is
 * what an S3/GCS adapter would have to pass to let a worker pool share checkpoints without a
 * shared mount. Framework-free: node:crypto only.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../kernel/domain-error.js';

export interface StoredCheckpoint {
  /** where the store put it, as the store resolves it later (recorded in CheckpointSaved) */
  readonly location: string;
  readonly sha256: string;
  readonly size: number;
}

/** Why a storage operation failed; `code` is the system error code (ENOSPC, EIO, EACCES...). */
export type StorageFailureCode = 'ENOSPC' | 'EDQUOT' | 'EIO' | 'EACCES' | 'EPERM' | 'EROFS' | 'EMFILE' | 'UNKNOWN';

/**
 * A write, read or delete the store could not do. Nothing is left under the key when `put`
 * throws it (the adapters remove their temporary object). `kind` is 'unavailable' (503): the
 * disk or the object store is full, failing or refusing; retrying later may succeed.
 */
export class CheckpointStorageError extends DomainError {
  constructor(
    readonly operation: 'write' | 'read' | 'delete',
    readonly failure: StorageFailureCode,
    readonly target: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('unavailable', 'CheckpointStorageFailed', `checkpoint ${operation} failed (${failure}) at ${target}: ${message}`, undefined, options);
  }

  /** Wraps a Node system error (or anything thrown by an adapter's I/O). */
  static from(operation: CheckpointStorageError['operation'], target: string, error: unknown): CheckpointStorageError {
    if (error instanceof CheckpointStorageError) return error;
    const code = (error as { code?: unknown }).code;
    const known: readonly StorageFailureCode[] = ['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EMFILE'];
    const failure = typeof code === 'string' && (known as readonly string[]).includes(code) ? (code as StorageFailureCode) : 'UNKNOWN';
    return new CheckpointStorageError(operation, failure, target, (error as Error).message ?? String(error), { cause: error });
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The key of experiment `experimentId`'s weights after step `step` (same for every adapter). */
export function checkpointKey(experimentId: string, step: number): string {
  if (!/^[A-Za-z0-9._-]+$/.test(experimentId) || experimentId.startsWith('.')) {
    throw new DomainError('invalid', 'InvalidCheckpointKey', `experiment id '${experimentId}' cannot name a checkpoint`, 'experimentId');
  }
  return `${experimentId}/step-${String(step).padStart(9, '0')}.ckpt`;
}

export type VerifiedRead = { readonly bytes: Uint8Array } | { readonly problem: string };

export abstract class CheckpointStore {
  /** adapter name, recorded with each checkpoint ('local-directory', 'memory-object') */
  abstract readonly kind: string;

  /**
   * Stores `bytes` under `key` atomically and durably: when it returns, the complete bytes are
   * readable at the returned location and survive a crash; when it throws
   * (`CheckpointStorageError`), nothing new is readable under the key and no partial object is
   * left behind.
   */
  abstract put(key: string, bytes: Uint8Array): Promise<StoredCheckpoint>;

  /** The bytes at a recorded location, or null when nothing is there. Throws on I/O failure. */
  abstract read(location: string): Promise<Uint8Array | null>;

  /** Removes what is at a recorded location; false when nothing was there (idempotent). */
  abstract delete(location: string): Promise<boolean>;

  /** Locations of the objects stored under a key prefix (`<experimentId>/`), sorted. */
  abstract list(prefix: string): Promise<string[]>;

  /** The bytes when they exist and their sha256 is the recorded one; otherwise why not. */
  async readVerified(location: string, expectedSha256: string): Promise<VerifiedRead> {
    let bytes: Uint8Array | null;
    try {
      bytes = await this.read(location);
    } catch (error) {
      return { problem: `cannot read ${location}: ${(error as Error).message}` };
    }
    if (bytes === null) return { problem: `${location}: not found in the ${this.kind} checkpoint store` };
    const actual = sha256(bytes);
    return actual === expectedSha256 ? { bytes } : { problem: `${location}: sha256 ${actual} does not match the recorded ${expectedSha256}` };
  }
}
