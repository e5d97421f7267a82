import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ablationRequest, policySchedule } from '../../src/ablation/policies.js';
import { toExperimentCreated } from '../../src/experiments/experiment-request.js';
import { presetRequest } from '../../src/experiments/presets.js';

describe('ablation policies', () => {
  it('one step budget, three schedules', () => {
    assert.deepEqual(policySchedule('uniform', 400, 100), { stepsPerEpoch: 100, warmupSteps: 400, treeBuildingSteps: 0, mctSteps: 0 });
    assert.deepEqual(policySchedule('mct', 400, 100), { stepsPerEpoch: 100, warmupSteps: 0, treeBuildingSteps: 40, mctSteps: 360 });
    assert.deepEqual(policySchedule('uniform+mct', 400, 100), { stepsPerEpoch: 100, warmupSteps: 200, treeBuildingSteps: 40, mctSteps: 160 });
    assert.throws(() => policySchedule('mct', 5, 100), /steps must be/);
  });

  it('the request is a valid experiment on the stand-alone table\'s validation split', () => {
    const base = presetRequest('demo');
    const created = toExperimentCreated(
      ablationRequest(base, { policy: 'mct', steps: 300, seed: 2, validationSplitSeed: 0, validationPerClass: 100, bnRecalibrationBatches: 10 }),
    );
    assert.equal(created.seed, 2);
    const stepsPerEpoch = (base.schedule as { stepsPerEpoch: number }).stepsPerEpoch;
    assert.deepEqual(created.schedule, { stepsPerEpoch, warmupSteps: 0, treeBuildingSteps: 30, mctSteps: 270 });
    assert.equal(created.training['validationSplitSeed'], 0);
    assert.equal(created.training['validationPerClass'], 100);
    assert.equal(created.search.bnRecalibrationBatches, 10);
  });
});
