/**
 * The local-directory adapter of the checkpoint port: one file per checkpoint under a root
 * directory (`$MCTNAS_DATA_DIR/checkpoints`), recorded by its key relative to that root, so a
 * service started from any working directory finds it.
 *
 * A put is atomic and durable: temp file in the target directory, write, fsync, close, rename
 * over the name, fsync of the directory. Any failure (ENOSPC, EIO, EACCES...) removes the temp
 * file (and the renamed file when only the directory sync failed) and throws a
 * `CheckpointStorageError`: nothing partial is left or returned.
 *
 * Locations recorded before this port (absolute paths, or paths relative to the working
 * directory such as `.mctnas/checkpoints/<id>/step-….ckpt`) still resolve: first as recorded
 * against the root, then by their `<id>/<file>` tail under the root, then as recorded.
 */
import * as nodeFs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { CheckpointStorageError, CheckpointStore, sha256, type StoredCheckpoint } from '../../checkpoints/checkpoint-store.js';

/** The file operations the adapter uses; a test replaces some to inject faults at the boundary. */
export interface FileIo {
  mkdirSync(path: string, options: { recursive: true }): unknown;
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readFileSync(path: string): Buffer;
  readdirSync(path: string): string[];
  existsSync(path: string): boolean;
}

const nodeIo: FileIo = {
  mkdirSync: (p, o) => nodeFs.mkdirSync(p, o),
  openSync: (p, f, m) => nodeFs.openSync(p, f, m),
  writeSync: (fd, b, o, l) => nodeFs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
  readFileSync: (p) => nodeFs.readFileSync(p),
  readdirSync: (p) => nodeFs.readdirSync(p),
  existsSync: (p) => nodeFs.existsSync(p),
};

const TEMP_MARK = '.tmp-';

export class LocalDirectoryCheckpointStore extends CheckpointStore {
  readonly kind = 'local-directory';
  readonly root: string;
  private readonly io: FileIo;

  constructor(root: string, options: { io?: Partial<FileIo> } = {}) {
    super();
    this.root = resolve(root);
    this.io = { ...nodeIo, ...options.io };
  }

  async put(key: string, bytes: Uint8Array): Promise<StoredCheckpoint> {
    const path = this.pathOf(key);
    const directory = dirname(path);
    const temp = `${path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
    let fd: number | null = null;
    let renamed = false;
    try {
      this.io.mkdirSync(directory, { recursive: true });
      this.removeStaleTemporaries(directory);
      fd = this.io.openSync(temp, 'w', 0o644);
      let offset = 0;
      while (offset < bytes.length) offset += this.io.writeSync(fd, bytes, offset, bytes.length - offset);
      this.io.fsyncSync(fd);
      const closing = fd;
      fd = null;
      this.io.closeSync(closing);
      this.io.renameSync(temp, path);
      renamed = true;
      const dir = this.io.openSync(directory, 'r');
      try {
        this.io.fsyncSync(dir);
      } finally {
        this.io.closeSync(dir);
      }
    } catch (error) {
      if (fd !== null) this.quietly(() => this.io.closeSync(fd!));
      this.quietly(() => this.io.unlinkSync(temp));
      // The rename may be lost in a crash when the directory sync failed: do not report it stored.
      if (renamed) this.quietly(() => this.io.unlinkSync(path));
      throw CheckpointStorageError.from('write', path, error);
    }
    return { location: key, sha256: sha256(bytes), size: bytes.length };
  }

  async read(location: string): Promise<Uint8Array | null> {
    const path = this.candidates(location).find((p) => this.io.existsSync(p));
    if (path === undefined) return null;
    try {
      const file = this.io.readFileSync(path);
      return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
    } catch (error) {
      throw CheckpointStorageError.from('read', path, error);
    }
  }

  async delete(location: string): Promise<boolean> {
    const path = this.candidates(location).find((p) => this.io.existsSync(p));
    if (path === undefined) return false;
    try {
      this.io.unlinkSync(path);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return false;
      throw CheckpointStorageError.from('delete', path, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const directory = this.pathOf(prefix.replace(/\/+$/, '') || '.');
    if (!this.io.existsSync(directory)) return [];
    const base = prefix.replace(/\/+$/, '');
    return this.io
      .readdirSync(directory)
      .filter((name) => !name.includes(TEMP_MARK))
      .map((name) => (base ? `${base}/${name}` : name))
      .sort();
  }

  /** The absolute file a location resolves to now (null: none of its candidates exists). */
  resolveLocation(location: string): string | null {
    return this.candidates(location).find((p) => this.io.existsSync(p)) ?? null;
  }

  private pathOf(key: string): string {
    const parts = key.split('/');
    if (isAbsolute(key) || parts.some((p) => p === '..' || p === '')) {
      throw new CheckpointStorageError('write', 'UNKNOWN', key, 'a checkpoint key is a relative path without empty or .. segments');
    }
    return join(this.root, ...parts);
  }

  /** Where a recorded location may be: under the root as recorded, by its `<id>/<file>` tail, as recorded. */
  private candidates(location: string): string[] {
    const parts = location.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
    const tail = parts.length >= 2 && !parts.slice(-2).includes('..') ? join(this.root, ...parts.slice(-2)) : null;
    const out = isAbsolute(location) ? [location] : [];
    if (!isAbsolute(location) && !parts.includes('..')) out.push(join(this.root, ...parts));
    if (tail) out.push(tail);
    if (!isAbsolute(location)) out.push(resolve(location));
    return [...new Set(out)].filter((p) => !p.includes(TEMP_MARK) && (p.startsWith(this.root + sep) || p === location || p === resolve(location)));
  }

  /** Temp files a crashed writer left (one experiment per directory, one lease holder): a full disk needs their space back. */
  private removeStaleTemporaries(directory: string): void {
    for (const entry of this.io.readdirSync(directory)) {
      if (!entry.includes(TEMP_MARK) || entry.includes(`${TEMP_MARK}${process.pid}-`)) continue;
      this.quietly(() => this.io.unlinkSync(join(directory, entry)));
    }
  }

  private quietly(action: () => void): void {
    try {
      action();
    } catch {
      // best effort: the original failure is what the caller must see
    }
  }
}
