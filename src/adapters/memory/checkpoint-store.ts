/**
 * An in-process object store behind the checkpoint port, with an object store's semantics:
 * whole-object puts (an object appears complete or not at all), no rename, no directories,
 * locations as `memory://<bucket>/<key>` URLs. It is the stand-in an S3/GCS adapter is checked
 * against (the same contract test as the local directory) and serves tests and tabular runs
 * that need no disk. `capacityBytes` makes it refuse puts beyond a quota (ENOSPC), like a full
 * bucket.
 */
import { CheckpointStorageError, CheckpointStore, sha256, type StoredCheckpoint } from '../../checkpoints/checkpoint-store.js';

export class MemoryObjectCheckpointStore extends CheckpointStore {
  readonly kind = 'memory-object';
  private readonly objects = new Map<string, Uint8Array>();
  private readonly bucket: string;
  capacityBytes: number;

  constructor(options: { bucket?: string; capacityBytes?: number } = {}) {
    super();
    this.bucket = options.bucket ?? 'checkpoints';
    this.capacityBytes = options.capacityBytes ?? Number.POSITIVE_INFINITY;
  }

  get usedBytes(): number {
    let used = 0;
    for (const bytes of this.objects.values()) used += bytes.length;
    return used;
  }

  async put(key: string, bytes: Uint8Array): Promise<StoredCheckpoint> {
    const location = this.locationOf(key);
    const replaced = this.objects.get(key)?.length ?? 0;
    if (this.usedBytes - replaced + bytes.length > this.capacityBytes) {
      throw new CheckpointStorageError('write', 'ENOSPC', location, `bucket quota of ${this.capacityBytes} bytes exceeded`);
    }
    this.objects.set(key, Uint8Array.from(bytes));
    return { location, sha256: sha256(bytes), size: bytes.length };
  }

  async read(location: string): Promise<Uint8Array | null> {
    const key = this.keyOf(location);
    const bytes = key === null ? undefined : this.objects.get(key);
    return bytes === undefined ? null : Uint8Array.from(bytes);
  }

  async delete(location: string): Promise<boolean> {
    const key = this.keyOf(location);
    return key !== null && this.objects.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    const base = prefix.replace(/\/+$/, '');
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(`${base}/`))
      .sort()
      .map((k) => this.locationOf(k));
  }

  private locationOf(key: string): string {
    if (key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '')) {
      throw new CheckpointStorageError('write', 'UNKNOWN', key, 'a checkpoint key is a relative path without empty or .. segments');
    }
    return `memory://${this.bucket}/${key}`;
  }

  private keyOf(location: string): string | null {
    const prefix = `memory://${this.bucket}/`;
    return location.startsWith(prefix) ? location.slice(prefix.length) : null;
  }
}
