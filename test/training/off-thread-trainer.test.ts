import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';
import { crashExperimentRequest, writeCifarBatches } from '../../scripts/crash-harness.js';
import type { EventData } from '../../src/events/catalog.js';
import { toExperimentCreated } from '../../src/experiments/experiment-request.js';
import { createSupernetTrainer, OffThreadTrainer, parseTrainingThread } from '../../src/training/off-thread-trainer.js';
import type { StepTrainer } from '../../src/training/step-trainer.js';
import { SupernetTrainer } from '../../src/training/supernet-trainer.js';

/** A small real experiment (the crash test's: 32x32 CIFAR-10 batches on disk, width 0.125). */
function experiment(dir: string, training: Record<string, unknown> = {}): EventData<'ExperimentCreated'> {
  const request = crashExperimentRequest(dir);
  return toExperimentCreated({ ...request, training: { ...request.training, backend: 'wasm', ...training } });
}

/** Paths of `n` steps through the 8-layer, 3-op space (a fixed, varied sequence). */
const paths = (n: number): number[][] => Array.from({ length: n }, (_, s) => Array.from({ length: 8 }, (_, l) => (s * 7 + l * 5 + ((s * l) % 3)) % 3));

describe('training on its own thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mctnas-offthread-'));
  let created: EventData<'ExperimentCreated'>;
  before(() => {
    writeCifarBatches(dir);
    created = experiment(dir);
  });

  it('given the same experiment, when 12 steps train on a worker thread and on the service thread, then every loss, the saved state and the search answers are bit-identical', { timeout: 300_000 }, async () => {
    const main = await createSupernetTrainer(created, undefined, 'main');
    const worker = await createSupernetTrainer(created, undefined, 'worker');
    try {
      assert.ok(main instanceof SupernetTrainer);
      assert.ok(worker instanceof OffThreadTrainer);
      assert.deepEqual(worker.backend, main.backend);
      for (const [step, path] of paths(12).entries()) {
        const [a, b] = [await main.trainStep(step, path), await worker.trainStep(step, path)];
        assert.ok(Object.is(a, b), `step ${step}: loss ${a} on the service thread, ${b} off-thread`);
      }
      assert.ok(Buffer.from(await main.saveState()).equals(Buffer.from(await worker.saveState())), 'weights, BN statistics and momentum buffers');
      const [e, f] = [main.evaluator(), worker.evaluator()];
      assert.ok(Object.is(await e.validationBatchLoss(paths(1)[0]!, 3), await f.validationBatchLoss(paths(1)[0]!, 3)));
      assert.deepEqual(await f.fullValidation([2, 1, 0, 2, 1, 0, 2, 1], 1), await e.fullValidation([2, 1, 0, 2, 1, 0, 2, 1], 1));
    } finally {
      await main.dispose();
      await worker.dispose();
    }
  });

  it('given a state saved on the service thread, when it is loaded off-thread, then training continues exactly as on the service thread', { timeout: 300_000 }, async () => {
    const main = await createSupernetTrainer(created, undefined, 'main');
    const worker = await createSupernetTrainer(created, undefined, 'worker');
    try {
      for (const [step, path] of paths(5).entries()) await main.trainStep(step, path);
      await worker.loadState(await main.saveState());
      for (const [step, path] of paths(8).entries()) {
        if (step < 5) continue;
        const [a, b] = [await main.trainStep(step, path), await worker.trainStep(step, path)];
        assert.ok(Object.is(a, b), `step ${step}: ${a} vs ${b}`);
      }
    } finally {
      await main.dispose();
      await worker.dispose();
    }
  });

  it('given a request the trainer rejects, then the error comes back with its message and the thread keeps serving', { timeout: 300_000 }, async () => {
    const worker = await createSupernetTrainer(created, undefined, 'worker');
    try {
      await assert.rejects(worker.trainStep(0, [0, 1]), /training thread: .*architecture/i);
      assert.ok(Number.isFinite(await worker.trainStep(0, paths(1)[0]!)));
    } finally {
      await worker.dispose();
    }
  });

  it('given a disposed off-thread trainer, then its thread is gone: later calls fail and a process that disposed it exits by itself', { timeout: 300_000 }, async () => {
    const worker = await createSupernetTrainer(created, undefined, 'worker');
    await worker.dispose();
    await assert.rejects(worker.trainStep(0, paths(1)[0]!), /disposed/);

    const dist = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
    const script = join(dir, 'dispose.mjs');
    writeFileSync(
      script,
      `const { createSupernetTrainer } = await import(${JSON.stringify(pathToFileURL(join(dist, 'src/training/off-thread-trainer.js')).href)});
       const trainer = await createSupernetTrainer(JSON.parse(process.env.EXPERIMENT), undefined, 'worker');
       await trainer.trainStep(0, [0, 1, 2, 0, 1, 2, 0, 1]);
       await trainer.dispose();
       console.log('disposed');`,
    );
    const child = spawnSync(process.execPath, [script], { env: { ...process.env, EXPERIMENT: JSON.stringify(created) }, timeout: 120_000, encoding: 'utf8' });
    assert.equal(child.signal, null, `the process did not exit by itself after dispose (killed by ${child.signal}); output: ${child.stdout}${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /disposed/);
  });

  it('given a native backend (forced here), then the trainer stays on the service thread and says so', { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    const native = experiment(dir, { backend: 'tfjs-node' });
    // tfjs-node cannot be installed on this machine: the in-thread selection then fails as forced.
    await createSupernetTrainer(native, (line) => lines.push(line), 'worker').then(
      (trainer: StepTrainer) => trainer.dispose(),
      (error: Error) => assert.match(error.message, /TF_BACKEND forces tfjs-node/),
    );
    assert.ok(lines.some((l) => /training on the service thread: tfjs-node/.test(l)), lines.join('\n'));
  });

  it('given MCTNAS_TRAINING_THREAD, then only worker (the default) and main are accepted', () => {
    assert.equal(parseTrainingThread(undefined), 'worker');
    assert.equal(parseTrainingThread(' Main '), 'main');
    assert.throws(() => parseTrainingThread('gpu'), /expected worker or main/);
  });

});
