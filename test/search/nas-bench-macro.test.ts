/**
 * End-to-end on the real NAS-Bench-Macro space (SearchSpace satisfies SpaceModel): a simulated
 * supernet whose losses track the benchmark's accuracies, then the three strategies at the
 * same budget. Skipped when the benchmark table is not present.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { uniformAt } from '../../src/random/counter-rng.js';
import { nasBenchMacro, presetSpace } from '../../src/search-space/presets.js';
import type { Architecture } from '../../src/search-space/definition.js';
import { runEvolutionarySearch } from '../../src/search/evolutionary.js';
import { runHierarchicalSearch } from '../../src/search/hierarchical.js';
import { runRandomSearch } from '../../src/search/random-search.js';
import { searchSettings } from '../../src/search/settings.js';
import type { CandidateEvaluator } from '../../src/search/evaluator.js';
import type { SpaceModel } from '../../src/tree/space-model.js';
import { AUTHORS, simulateTraining } from '../tree/helpers.js';
import { nasBenchMacroJson } from '../support/paths.js';

const available = existsSync(nasBenchMacroJson);

describe('NAS-Bench-Macro end to end', { skip: !available && 'benchmark table not found' }, () => {
  it('trains a tree on table-driven losses and compares the three strategies at K = 20', async () => {
    const table = JSON.parse(readFileSync(nasBenchMacroJson, 'utf8')) as Record<string, { mean_acc: number; flops: number }>;
    const space = presetSpace('nas-bench-macro');
    const model: SpaceModel = space; // structural fit
    const acc = (a: Architecture) => table[a.join('')]!.mean_acc;
    const created = {
      name: 'nbm',
      searchSpace: nasBenchMacro as never,
      hyperparameters: AUTHORS,
      schedule: { stepsPerEpoch: 100, warmupSteps: 200, treeBuildingSteps: 1000, mctSteps: 1000 },
      flopsWindow: null,
      flopsWindowPhases: ['tree-building' as const, 'mct-sampling' as const],
      dataset: { kind: 'cifar10' },
      training: {},
      search: { strategy: 'hierarchical' as const, candidates: 20, topK: 10, bnRecalibrationBatches: 0, scope: 'trained' as const, updateDataFreq: 1000 },
      seed: 2021,
    };
    const trainLoss = (a: Architecture, step: number) => 0.3 + (100 - acc(a)) / 10 + 0.2 * uniformAt(1, step, 'nbm:loss', 0);
    const { state } = simulateTraining(model, created, trainLoss);
    const evaluator: CandidateEvaluator = {
      validationBatchLoss: (a, i) => 0.3 + (100 - acc(a)) / 10 + 0.3 * uniformAt(2, i, 'nbm:val', 0),
      fullValidation: (a) => ({ top1: acc(a), top5: null, loss: (100 - acc(a)) / 10 }),
    };
    const settings = searchSettings(state, 'nbm');
    const hier = await runHierarchicalSearch(state, model, settings, { evaluator, emit: () => {} });
    const rand = await runRandomSearch(model, settings, { evaluator, emit: () => {} });
    const evo = await runEvolutionarySearch(model, settings, { evaluator, emit: () => {} });
    for (const out of [hier, rand, evo]) {
      assert.equal(out.evaluated.length, 20);
      assert.equal(new Set(out.evaluated.map((c) => c.architecture.join(''))).size, 20);
      for (const c of out.evaluated) {
        assert.equal(c.flops, table[c.architecture.join('')]!.flops);
      }
    }
    // The tree concentrates on good architectures: the mean accuracy of the 20 hierarchical
    // candidates lies more than 3 standard errors of a uniform sample of 20 above the table's
    // mean (a search ignoring the tree passes this with probability ~0.001), and above the mean
    // of the random search's 20 on the same evaluator.
    const all = Object.values(table).map((r) => r.mean_acc);
    const mean = all.reduce((s, v) => s + v, 0) / all.length;
    const sd = Math.sqrt(all.reduce((s, v) => s + (v - mean) ** 2, 0) / (all.length - 1));
    const meanOf = (out: typeof hier) => out.evaluated.reduce((s, c) => s + acc(c.architecture), 0) / out.evaluated.length;
    assert.ok(meanOf(hier) > mean + (3 * sd) / Math.sqrt(20), `hierarchical candidates' mean ${meanOf(hier)} vs table mean ${mean} + 3 x ${sd} / sqrt(20)`);
    assert.ok(meanOf(hier) > meanOf(rand), `hierarchical ${meanOf(hier)} vs random ${meanOf(rand)}`);
  });
});
