import { LocalDirectoryCheckpointStore } from '../../src/adapters/filesystem/checkpoint-store.js';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/database/database.js';
import { EventStore } from '../../src/events/event-store.js';
import type { StoredEvent } from '../../src/events/stored-event.js';
import type { StreamStore } from '../../src/events/stream-store.js';
import { ExperimentProjections } from '../../src/experiments/experiment-projections.js';
import { ExperimentService } from '../../src/experiments/experiment-service.js';
import { strategyNames } from '../../src/search/config.js';
import { runSearchOnExperiment } from '../../src/experiments/search-runner.js';
import { kendallTau } from '../../src/analysis/rank-correlation.js';
import { MemoryEventStore } from '../../src/events/memory-event-store.js';
import { OracleTrainer } from '../../src/tabular/oracle.js';
import { createOracleExperiment, type OracleExperimentOptions, oracleFor, runOracleExperiment, type SearchRequest } from '../../src/tabular/oracle-experiment.js';
import { loadNasBenchMacro, loadTable } from '../../src/tabular/table.js';
import { TrainingWorker } from '../../src/training/training-worker.js';
import { requireTree } from '../../src/tree/state.js';
import { testBackends } from '../support/databases.js';
import { nasBenchMacroJson } from '../support/paths.js';
import { csvOf, tempFile, tinyRows, tinySpec } from './fixtures.js';

const tiny = loadTable(tempFile('.csv', csvOf(tinyRows())), tinySpec);
const haveMacro = existsSync(nasBenchMacroJson);
const macro = haveMacro ? loadNasBenchMacro(nasBenchMacroJson) : null;

function memoryService(): ExperimentService<MemoryEventStore> {
  const store = new MemoryEventStore();
  return new ExperimentService(store, new ExperimentProjections(store));
}

/** The history that must not depend on who ran it or when: no lease, backend or checkpoint bookkeeping. */
function history(events: readonly StoredEvent[]): { type: string; data: unknown }[] {
  return events.filter((e) => !e.type.startsWith('Worker') && e.type !== 'TrainingBackendSelected' && !e.type.startsWith('Checkpoint')).map((e) => ({ type: e.type, data: e.data }));
}

describe('Kendall tau-b', () => {
  it('is 1 for the same order, -1 for the reverse, and corrects for ties', () => {
    assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
    assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    // 4 concordant pairs, one tied in x only, one tied in y only: 4 / sqrt(5 * 5)
    assert.equal(kendallTau([1, 2, 2, 3], [1, 2, 3, 3]), 0.8);
  });
});

describe('the supernet-proxy model', () => {
  const exact = { noise: 0, proxySeed: 0, validationSeed: 1, validationNoise: 0 };

  it('without noise, answers -ln(acc / 100) of the proxy seed for every loss, and the other seed\'s accuracy for full validation', async () => {
    const oracle = new OracleTrainer(tiny, 1, exact);
    const evaluator = oracle.evaluator();
    assert.equal(await oracle.trainStep(0, [1, 2]), -Math.log(0.88));
    assert.equal(await evaluator.validationBatchLoss([1, 2], 5), -Math.log(0.88));
    assert.deepEqual(await evaluator.fullValidation([1, 2], 0), { top1: 89, top5: null, loss: -Math.log(0.89) });
  });

  it('with noise, multiplies the loss by exp(noise * z), z a standard normal drawn per step from the seed', async () => {
    const oracle = new OracleTrainer(tiny, 1, { ...exact, noise: 0.2 });
    const z: number[] = [];
    for (let step = 0; step < 4000; step++) z.push(Math.log((await oracle.trainStep(step, [1, 2])) / -Math.log(0.88)) / 0.2);
    const mean = z.reduce((a, b) => a + b) / z.length;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / (z.length - 1));
    assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 1) < 0.05, `mean ${mean}, sd ${sd}`);
    assert.equal(await oracle.trainStep(17, [1, 2]), await new OracleTrainer(tiny, 1, { ...exact, noise: 0.2 }).trainStep(17, [1, 2]), 'a pure function of the seed and step');
    assert.notEqual(await oracle.trainStep(17, [1, 2]), await new OracleTrainer(tiny, 2, { ...exact, noise: 0.2 }).trainStep(17, [1, 2]));
    assert.notEqual(await oracle.evaluator().validationBatchLoss([1, 2], 17), await oracle.trainStep(17, [1, 2]), 'validation batches draw their own noise');
  });

  it('gives each architecture one fixed full-validation answer per seed', async () => {
    const evaluator = new OracleTrainer(tiny, 1, { ...exact, validationNoise: 0.25 }).evaluator();
    const first = await evaluator.fullValidation([0, 1], 0);
    assert.deepEqual(await evaluator.fullValidation([0, 1], 7), first);
    assert.notEqual(first.top1, 84);
  });

  it('refuses seeds that are not accuracy columns', () => {
    assert.throws(() => new OracleTrainer(tiny, 1, { ...exact, validationSeed: 2 }), /proxy.validationSeed: 2 is not an accuracy column/);
  });

  it('on NAS-Bench-Macro at the default noise 0.2, ranks like tau 0.478 for one batch and 0.931 without noise', { skip: !haveMacro && 'benchmark table not found' }, () => {
    const tau = new OracleTrainer(macro!, 0, { noise: 0.2, proxySeed: 0, validationSeed: 1, validationNoise: 0.25 }).kendallTau();
    assert.equal(tau.oneBatch.toFixed(3), '0.478');
    assert.equal(tau.noiseFree.toFixed(3), '0.931');
  });
});

describe('an oracle experiment end to end (in memory)', { skip: !haveMacro && 'benchmark table not found' }, () => {
  const options: OracleExperimentOptions = { seed: 7, schedule: { stepsPerEpoch: 20, warmupSteps: 20, treeBuildingSteps: 200, mctSteps: 400 } };

  it('given seed 7, then training and a K = 10 hierarchical search give this checked result', async () => {
    const service = memoryService();
    const id = await createOracleExperiment(service, macro!, options);
    const run = await runOracleExperiment(service, macro!, id, [{ strategy: 'hierarchical', candidates: 10 }]);
    const outcome = run.searches[0]!;
    const chosen = outcome.best.architecture;
    // The search's pick is its best full validation among ten distinct candidates...
    assert.equal(outcome.evaluated.length, 10);
    assert.equal(new Set(outcome.evaluated.map((c) => c.architecture.join(''))).size, 10);
    assert.equal(outcome.best.top1, Math.max(...outcome.evaluated.map((c) => c.top1)));
    // ...recorded as such, with the experiment completed,
    const events = await service.store.readStream(id);
    const completed = events.find((e) => e.type === 'SearchCompleted')!;
    assert.deepEqual(completed.type === 'SearchCompleted' && completed.data.best, { architecture: chosen, top1: outcome.best.top1 });
    assert.equal(events.at(-1)!.type, 'ExperimentCompleted');
    assert.equal(events.filter((e) => e.type === 'RewardRecorded').length, 620);
    // ...and this is what it picked (pinned: the pipeline is deterministic from the seed).
    assert.deepEqual(
      { key: macro!.key(chosen), truth: macro!.truth(chosen).toFixed(3), rank: macro!.rank(chosen), validations: outcome.validationBatchEvaluations, leaves: run.treeKendallTau.leaves, tau: run.treeKendallTau.tau.toFixed(3) },
      { key: '11202210', truth: '92.170', rank: 1012, validations: 130, leaves: 198, tau: '0.334' },
    );
    assert.ok(macro!.rank(chosen) < macro!.size / 2, 'better than the median network');
  });

  it('evaluates the first K candidates of a larger budget exactly as a run with budget K, for the strategies that do not scale with K', async () => {
    const run = async (candidates: number) => {
      const service = memoryService();
      const id = await createOracleExperiment(service, macro!, options);
      // Evolution sizes its population to the budget (min(50, ceil(K / 2))): no prefix property.
      const searches: SearchRequest[] = strategyNames.filter((s) => s !== 'evolutionary').map((strategy) => ({ strategy, candidates }));
      return runOracleExperiment(service, macro!, id, searches);
    };
    const small = await run(4);
    const large = await run(12);
    small.searches.forEach((outcome, i) => {
      assert.deepEqual(outcome.evaluated, large.searches[i]!.evaluated.slice(0, 4), outcome.strategy);
    });
  });

  it('given runs interrupted during training and during the search, then running again finishes with the uninterrupted history', async () => {
    const searches: SearchRequest[] = [{ strategy: 'hierarchical', candidates: 6 }, { strategy: 'random', candidates: 3 }];
    const reference = memoryService();
    const referenceId = await createOracleExperiment(reference, macro!, options);
    const expected = await runOracleExperiment(reference, macro!, referenceId, searches);

    const service = memoryService();
    const id = await createOracleExperiment(service, macro!, options);
    const controller = new AbortController();
    await assert.rejects(runOracleExperiment(service, macro!, id, searches, { signal: controller.signal, onStep: (p) => p.step === 300 && controller.abort() }));
    assert.equal((await service.projections.current(id)).tree.lastRewardedStep, 300, 'stopped right after step 300');
    const second = new AbortController();
    await assert.rejects(runOracleExperiment(service, macro!, id, searches, { signal: second.signal, onCandidate: (p) => p.evaluated === 2 && second.abort() }));
    const finished = await runOracleExperiment(service, macro!, id, searches);

    assert.deepEqual(history(await service.store.readStream(id)), history(await reference.store.readStream(referenceId)));
    assert.deepEqual(finished.searches, expected.searches);
    assert.equal(oracleFor(macro!, requireTree(finished.trainedTree).config.experiment).seed, 7, 'the oracle comes back from the recorded experiment');
  });
});

for (const backend of testBackends) {
  describe(`the oracle pipeline against the stream-driven trainer on ${backend.name}`, { skip: !haveMacro && 'benchmark table not found' }, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(() => db.close());

    it('given the same experiment, then the tabular runner records what the stream-driven worker records with the oracle as its trainer, checkpoints aside', async () => {
      const store = new EventStore(db);
      const service = new ExperimentService(store, new ExperimentProjections(store));
      const options: OracleExperimentOptions = { seed: 4, schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 20, mctSteps: 30 } };
      const searches: SearchRequest[] = [{ strategy: 'hierarchical', candidates: 3 }];

      const tabularId = await createOracleExperiment(service, macro!, options);
      await runOracleExperiment(service as ExperimentService<StreamStore>, macro!, tabularId, searches);

      // The real trainer's path: the worker consumes the stream, then the search runs on the same tree.
      const workerId = await createOracleExperiment(service, macro!, options);
      const oracle = oracleFor(macro!, requireTree((await service.projections.current(workerId)).tree).config.experiment);
      const worker = new TrainingWorker(service, oracle, { workerId: 'gpu-0', checkpoints: new LocalDirectoryCheckpointStore(mkdtempSync(join(tmpdir(), 'mctnas-oracle-'))), checkpointEvery: 20 });
      assert.equal((await worker.train(workerId)).status, 'finished');
      const lease = await service.acquireLease(workerId, 'gpu-0');
      await runSearchOnExperiment(service, workerId, { leaseId: lease.leaseId, evaluator: oracle.evaluator(), ...searches[0]!, searchId: 'search-1' });
      await service.releaseLease(workerId, lease.leaseId);
      await service.complete(workerId, 60);

      const tabular = await store.readStream(tabularId);
      const real = await store.readStream(workerId);
      assert.deepEqual(history(tabular), history(real));
      // Heartbeats come from the clock (a slow machine writes some), checkpoints from weights the
      // oracle does not have: neither belongs to the recorded algorithm.
      const types = (events: readonly StoredEvent[]) =>
        [...new Set(events.map((e) => e.type))].filter((t) => t !== 'WorkerHeartbeat' && !t.startsWith('Checkpoint')).sort();
      assert.deepEqual(types(tabular), types(real), 'the same event types, heartbeats and checkpoints aside');
    });
  });
}
