import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkpointKey, CheckpointStorageError, type CheckpointStore, sha256 } from '../../src/checkpoints/checkpoint-store.js';

/**
 * What every checkpoint store adapter must do (the local directory, the in-process object
 * store; an S3/GCS adapter would run the same function). `fresh` gives an empty store;
 * `refuseNextPut` makes the adapter's next put fail at its I/O boundary with `code`.
 */
export function checkpointStoreContract(fresh: () => CheckpointStore, refuseNextPut: (store: CheckpointStore, code: string) => void): void {
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);

  it('given a put, then the location reads back the same bytes with the reported sha256 and size', async () => {
    const store = fresh();
    const data = bytes(10_000, 1);
    const stored = await store.put(checkpointKey('exp-a', 9), data);
    assert.equal(stored.sha256, sha256(data));
    assert.equal(stored.size, data.length);
    assert.deepEqual(await store.read(stored.location), data);
    const verified = await store.readVerified(stored.location, stored.sha256);
    assert.ok('bytes' in verified);
  });

  it('given a put over an existing key, then the new bytes replace the old ones whole', async () => {
    const store = fresh();
    const first = await store.put(checkpointKey('exp-a', 9), bytes(5000, 1));
    const second = await store.put(checkpointKey('exp-a', 9), bytes(3000, 2));
    assert.equal(first.location, second.location);
    assert.deepEqual(await store.read(second.location), bytes(3000, 2));
  });

  it('given a recorded hash that does not match, then the verified read names the mismatch', async () => {
    const store = fresh();
    const stored = await store.put(checkpointKey('exp-a', 1), bytes(100, 3));
    const result = await store.readVerified(stored.location, 'f'.repeat(64));
    assert.ok('problem' in result && /does not match/.test(result.problem));
    const missing = await store.readVerified(stored.location.replace('step-000000001', 'step-000000002'), stored.sha256);
    assert.ok('problem' in missing && /not found/.test(missing.problem));
  });

  it('given puts of two experiments, then list shows each prefix only and delete is idempotent', async () => {
    const store = fresh();
    const a1 = await store.put(checkpointKey('exp-a', 1), bytes(10, 1));
    const a2 = await store.put(checkpointKey('exp-a', 2), bytes(10, 2));
    await store.put(checkpointKey('exp-b', 1), bytes(10, 3));
    assert.deepEqual(await store.list('exp-a/'), [a1.location, a2.location]);
    assert.equal(await store.delete(a1.location), true);
    assert.equal(await store.delete(a1.location), false);
    assert.deepEqual(await store.list('exp-a/'), [a2.location]);
    assert.equal(await store.read(a1.location), null);
  });

  for (const code of ['ENOSPC', 'EIO', 'EACCES']) {
    it(`given the store refuses a put with ${code}, then it throws a CheckpointStorageError naming ${code}, leaves nothing new and keeps the previous checkpoint`, async () => {
      const store = fresh();
      const previous = await store.put(checkpointKey('exp-a', 4), bytes(2000, 4));
      refuseNextPut(store, code);
      await assert.rejects(store.put(checkpointKey('exp-a', 9), bytes(2000, 9)), (error: unknown) => {
        assert.ok(error instanceof CheckpointStorageError);
        assert.equal(error.failure, code);
        assert.equal(error.kind, 'unavailable');
        return true;
      });
      assert.deepEqual(await store.list('exp-a/'), [previous.location], 'no partial object under any name');
      assert.ok('bytes' in (await store.readVerified(previous.location, previous.sha256)));
      const retried = await store.put(checkpointKey('exp-a', 9), bytes(2000, 9));
      assert.deepEqual(await store.read(retried.location), bytes(2000, 9), 'a later put succeeds');
    });
  }

  it('given a key that would leave the store, then put refuses it', async () => {
    await assert.rejects(fresh().put('../outside.ckpt', bytes(1, 1)));
    assert.throws(() => checkpointKey('../x', 1), /cannot name a checkpoint/);
  });
}
