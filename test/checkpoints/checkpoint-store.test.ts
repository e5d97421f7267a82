import assert from 'node:assert/strict';
import { existsSync, fsyncSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FileIo, LocalDirectoryCheckpointStore } from '../../src/adapters/filesystem/checkpoint-store.js';
import { MemoryObjectCheckpointStore } from '../../src/adapters/memory/checkpoint-store.js';
import { checkpointKey, CheckpointStorageError, type CheckpointStore } from '../../src/checkpoints/checkpoint-store.js';
import { checkpointStoreContract } from './store-contract.js';
import { mountSmallFilesystem } from './small-filesystem.js';

/** Fault injection at the adapter's file-system boundary: the next write(2) fails with `code`. */
const faults = new WeakMap<CheckpointStore, { code: string | null }>();
function faultyLocalStore(): LocalDirectoryCheckpointStore {
  const state = { code: null as string | null };
  const io: Partial<FileIo> = {
    writeSync: (fd, buffer, offset, length) => {
      if (state.code) {
        const code = state.code;
        state.code = null;
        throw Object.assign(new Error(`${code}: injected write failure`), { code });
      }
      return writeSync(fd, buffer, offset, length);
    },
  };
  const store = new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-store-')), { io });
  faults.set(store, state);
  return store;
}

describe('checkpoint store contract: local directory', () => {
  checkpointStoreContract(faultyLocalStore, (store, code) => {
    faults.get(store)!.code = code;
  });
});

describe('checkpoint store contract: in-process object store', () => {
  const refusals = new WeakMap<CheckpointStore, string>();
  class RefusingObjectStore extends MemoryObjectCheckpointStore {
    override async put(key: string, bytes: Uint8Array) {
      const code = refusals.get(this);
      if (code) {
        refusals.delete(this);
        if (code === 'ENOSPC') {
          // the real quota path: shrink the bucket to what it holds
          const capacity = this.capacityBytes;
          this.capacityBytes = this.usedBytes;
          try {
            return await super.put(key, bytes);
          } finally {
            this.capacityBytes = capacity;
          }
        }
        throw new CheckpointStorageError('write', code as 'EIO', key, 'injected');
      }
      return super.put(key, bytes);
    }
  }
  checkpointStoreContract(() => new RefusingObjectStore(), (store, code) => refusals.set(store, code));
});

describe('local directory checkpoint store', () => {
  it('given locations recorded before the port (absolute, or relative to another working directory), then they still resolve under the root', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mctnas-legacy-'));
    const root = join(dataDir, 'checkpoints');
    mkdirSync(join(root, 'exp-1'), { recursive: true });
    writeFileSync(join(root, 'exp-1', 'step-000000009.ckpt'), 'weights');
    const store = new LocalDirectoryCheckpointStore(root);
    const key = checkpointKey('exp-1', 9);
    for (const recorded of [key, join(root, key), '.mctnas/checkpoints/exp-1/step-000000009.ckpt', '/moved/away/.mctnas/checkpoints/exp-1/step-000000009.ckpt']) {
      assert.equal(Buffer.from((await store.read(recorded))!).toString(), 'weights', recorded);
    }
    // and a relative root works from another working directory once resolved
    const cwd = process.cwd();
    try {
      process.chdir(tmpdir());
      const relativeRoot = new LocalDirectoryCheckpointStore(relative(tmpdir(), root));
      process.chdir('/');
      assert.equal(Buffer.from((await relativeRoot.read(key))!).toString(), 'weights');
    } finally {
      process.chdir(cwd);
    }
  });

  it('given temp files left by a writer that crashed, then the next put removes them', async () => {
    const store = new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-stale-')));
    mkdirSync(join(store.root, 'exp-1'), { recursive: true });
    writeFileSync(join(store.root, 'exp-1', 'step-000000004.ckpt.tmp-99999-abcd'), 'torn');
    await store.put(checkpointKey('exp-1', 9), Uint8Array.of(1, 2, 3));
    assert.deepEqual(readdirSync(join(store.root, 'exp-1')), ['step-000000009.ckpt']);
  });

  it('given the directory sync fails after the rename, then the renamed file is removed too and the failure reported', async () => {
    let opens = 0;
    const store = new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-dirsync-')), {
      io: {
        fsyncSync: (fd) => {
          if (++opens === 2) throw Object.assign(new Error('EIO: directory sync'), { code: 'EIO' });
          fsyncSync(fd);
        },
      },
    });
    await assert.rejects(store.put(checkpointKey('exp-1', 3), Uint8Array.of(1)), (e: unknown) => e instanceof CheckpointStorageError && e.failure === 'EIO');
    assert.deepEqual(readdirSync(join(store.root, 'exp-1')), []);
  });

  describe('on a real full file system (a tmpfs the test mounts)', () => {
    let mount: Awaited<ReturnType<typeof mountSmallFilesystem>>;
    before(async () => {
      mount = await mountSmallFilesystem(256 * 1024);
    });
    after(() => mount?.unmount());

    it('given a disk too full for the next checkpoint, then put fails with ENOSPC, leaves no partial file and the previous one verifies; after space is freed it succeeds', async (t) => {
      if (!mount) return t.skip('cannot mount a tmpfs here (needs root or a user namespace)');
      const store = new LocalDirectoryCheckpointStore(join(mount.path, 'checkpoints'));
      const data = Uint8Array.from({ length: 64 * 1024 }, (_, i) => i % 256);
      const previous = await store.put(checkpointKey('exp-1', 4), data);
      const filler = join(mount.path, 'filler');
      mount.fill(filler);
      await assert.rejects(store.put(checkpointKey('exp-1', 9), data), (e: unknown) => e instanceof CheckpointStorageError && e.failure === 'ENOSPC');
      assert.deepEqual(readdirSync(join(store.root, 'exp-1')), ['step-000000004.ckpt']);
      assert.ok('bytes' in (await store.readVerified(previous.location, previous.sha256)));
      rmSync(filler);
      const next = await store.put(checkpointKey('exp-1', 9), data);
      assert.ok('bytes' in (await store.readVerified(next.location, next.sha256)));
      assert.ok(existsSync(join(store.root, 'exp-1', 'step-000000009.ckpt')));
    });
  });
});
