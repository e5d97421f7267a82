import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventCatalog, upcastEvent, validateEvent } from '../../src/events/catalog.js';
import { experiment } from '../tree/helpers.js';

describe('event upcasters: stored v1 payloads read as v2, meaning what they meant', () => {
  it('ArchitectureSampled v1 (full vectors) gains the chosen probabilities', () => {
    const v1 = { step: 3, architecture: [2, 0], phase: 'mct-sampling', sampler: 'mct', probabilities: [[0.1, 0.2, 0.7], [0.4, 0.6]], flops: 10, redraws: 0 };
    const up = upcastEvent('ArchitectureSampled', 1, v1) as Record<string, unknown>;
    assert.deepEqual(up['chosenProbabilities'], [0.7, 0.4]);
    assert.deepEqual(up['probabilities'], v1.probabilities);
    assert.doesNotThrow(() => validateEvent('ArchitectureSampled', up));
    assert.throws(() => validateEvent('ArchitectureSampled', v1), /chosenProbabilities/);
  });

  it('SearchStarted v1 continued the previous tree over every node, one batch per evaluation', () => {
    const v1 = { searchId: 's', strategy: 'hierarchical', candidates: 2, topK: 2, referenceLoss: 1, flopsWindow: null };
    assert.deepEqual(upcastEvent('SearchStarted', 1, v1), { ...v1, scope: 'any', tree: 'continued', updateDataFreq: 1, shortlist: null });
  });

  it('SearchStarted v2 had no shortlist option; CandidateRemoved v1 payloads are valid v2 ones', () => {
    const v2 = { searchId: 's', strategy: 'hierarchical', candidates: 2, topK: 2, referenceLoss: 1, flopsWindow: null, scope: 'trained', tree: 'as-trained', updateDataFreq: 1000 };
    const up = upcastEvent('SearchStarted', 2, v2);
    assert.deepEqual(up, { ...v2, shortlist: null });
    assert.doesNotThrow(() => validateEvent('SearchStarted', up));
    const removed = { searchId: 's', architecture: [1, 0], reason: 'evaluated' };
    assert.deepEqual(upcastEvent('CandidateRemoved', 1, removed), removed);
  });

  it('ValidationBatchEvaluated v1 used batch = evaluation', () => {
    const v1 = { searchId: 's', evaluation: 17, architecture: [1], loss: 1.5, reward: 0.5 };
    assert.deepEqual(upcastEvent('ValidationBatchEvaluated', 1, v1), { ...v1, batch: 17 });
  });

  it('ExperimentCreated v1 applied the window in every phase and searched as before', () => {
    const { flopsWindowPhases: _, ...v1 } = experiment([2, 2], { flopsWindow: { min: 1, max: 2 } });
    const v1Search = { strategy: 'hierarchical', candidates: 3, topK: 10, bnRecalibrationBatches: 0 };
    const up = upcastEvent('ExperimentCreated', 1, { ...v1, search: v1Search }) as Record<string, unknown>;
    assert.deepEqual(up['flopsWindowPhases'], ['warmup', 'tree-building', 'mct-sampling']);
    assert.deepEqual(up['search'], { ...v1Search, scope: 'any', updateDataFreq: 1 });
    assert.doesNotThrow(() => validateEvent('ExperimentCreated', up));
  });

  it('current versions pass through unchanged; every older version has an upcaster', () => {
    const data = { anything: 1 };
    assert.equal(upcastEvent('ArchitectureSampled', eventCatalog.ArchitectureSampled.version, data), data);
    for (const [type, entry] of Object.entries(eventCatalog)) {
      for (let v = 1; v < entry.version; v++) assert.doesNotThrow(() => upcastEvent(type, v, type === 'ArchitectureSampled' ? { architecture: [], probabilities: [] } : {}), `${type} v${v}`);
    }
  });
});
