import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from '../../src/tree/evolve.js';
import { compactSample, sampleArchitecture } from '../../src/tree/sampling.js';
import { experiment, tinySpace } from './helpers.js';

describe('the FLOPs window per training phase', () => {
  // 12 layers of ops {0, 1} adding 0 / 1 FLOPs: the window [1012, 1012] admits only the
  // all-ones path, which a uniform draw hits with p = 2^-12.
  const L = 12;
  const sp = tinySpace(new Array(L).fill(2), Array.from({ length: L }, () => [0, 1]));
  const window = { min: 1000 + L, max: 1000 + L };
  const schedule = { stepsPerEpoch: 1, warmupSteps: 5, treeBuildingSteps: 5, mctSteps: 0 };

  it('by default (the paper) warm-up draws ignore the window and tree building draws fit it', () => {
    const st = fold([{ type: 'ExperimentCreated', data: experiment(new Array(L).fill(2), { schedule, flopsWindow: window }) }]);
    assert.deepEqual(st.config!.flopsWindowPhases, ['tree-building', 'mct-sampling']);
    for (let step = 0; step < 5; step++) {
      const s = sampleArchitecture(st, sp, step);
      assert.equal(s.phase, 'warmup');
      assert.equal(s.sampler, 'uniform');
      assert.equal(s.redraws, 0);
      assert.notDeepEqual(s.architecture, new Array(L).fill(1), 'an unconstrained uniform draw');
    }
    const s = sampleArchitecture(st, sp, 5);
    assert.equal(s.phase, 'tree-building');
    assert.equal(s.sampler, 'uniform-flops');
    assert.deepEqual(s.architecture, new Array(L).fill(1));
    assert.equal(s.flops, 1012);
  });

  it("['warmup', ...] (v1 experiments) constrains warm-up too", () => {
    const st = fold([{ type: 'ExperimentCreated', data: experiment(new Array(L).fill(2), { schedule, flopsWindow: window, flopsWindowPhases: ['warmup', 'tree-building', 'mct-sampling'] }) }]);
    const s = sampleArchitecture(st, sp, 0);
    assert.equal(s.sampler, 'uniform-flops');
    assert.deepEqual(s.architecture, new Array(L).fill(1));
  });

  it('the stored sample keeps the chosen probability per layer only', () => {
    const st = fold([{ type: 'ExperimentCreated', data: experiment([3, 2], { schedule }) }]);
    const s = sampleArchitecture(st, tinySpace([3, 2]), 0);
    assert.deepEqual(s.probabilities, [[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5]]);
    assert.deepEqual(s.chosenProbabilities, [1 / 3, 0.5]);
    const stored = compactSample(s);
    assert.equal(stored.probabilities, null);
    assert.deepEqual(stored.chosenProbabilities, [1 / 3, 0.5]);
  });
});

describe('compact ArchitectureSampled in the ImageNet space', () => {
  it('stays under 1 KB a step (the full 21 x 13 vectors are ~6 KB)', async () => {
    const { toExperimentCreated } = await import('../../src/experiments/experiment-request.js');
    const { presetRequest } = await import('../../src/experiments/presets.js');
    const { SearchSpace } = await import('../../src/search-space/search-space.js');
    const created = toExperimentCreated(presetRequest('imagenet', { dataDir: '/data/imagenet' }));
    assert.equal(created.schedule.stepsPerEpoch, 1202, '(1,281,167 - 50,000) / 1024');
    assert.deepEqual(created.search.flopsWindow, { min: 320e6, max: 330e6 });
    const st = fold([{ type: 'ExperimentCreated', data: created }]);
    const sample = sampleArchitecture(st, SearchSpace.fromDefinition(created.searchSpace), created.schedule.warmupSteps);
    assert.ok(JSON.stringify(sample).length > 5000);
    const stored = JSON.stringify(compactSample(sample)).length;
    assert.ok(stored < 1024, `${stored} bytes`);
  });
});
