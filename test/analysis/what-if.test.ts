import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runHierarchicalSearch } from '../../src/search/hierarchical.js';
import { searchSettings } from '../../src/search/settings.js';
import type { SearchEvent } from '../../src/search/session.js';
import type { EventPosition, TreeEvent } from '../../src/tree/events.js';
import { whatIf } from '../../src/analysis/what-if.js';
import { experiment, simulateTraining, syntheticLoss, tinySpace } from '../tree/helpers.js';
import { fakeEvaluator } from '../search/fake-evaluator.js';

const opCounts = [3, 3, 3];
const space = tinySpace(opCounts);
const schedule = { stepsPerEpoch: 10, warmupSteps: 20, treeBuildingSteps: 100, mctSteps: 200 };

async function history(): Promise<(TreeEvent & EventPosition)[]> {
  const created = experiment(opCounts, { schedule, hp: { tau: 0.01 }, flopsWindow: { min: 1000, max: 1050 }, candidates: 5 });
  const run = simulateTraining(space, created, syntheticLoss(8));
  const search: SearchEvent[] = [];
  await runHierarchicalSearch(run.state, space, searchSettings(run.state, 'search-1'), { evaluator: fakeEvaluator(4), emit: (e) => void search.push(e) });
  return [...run.events, ...search.map((e, i) => ({ ...e, position: run.events.length + 1 + i }))];
}

describe('what-if replay', () => {
  it('with the recorded hyperparameters it reproduces the recorded tree and choice exactly', async () => {
    const events = await history();
    const frozen = JSON.stringify(events);
    const r = await whatIf(events, { space });
    assert.equal(JSON.stringify(events), frozen, 'the history is not modified');
    assert.equal(r.training.tree.identical, true);
    assert.equal(r.training.tree.maxAbsQbarDiff, 0);
    assert.deepEqual(r.training.tree.largest, []);
    assert.equal(r.training.treeUpdates.alternative, r.training.treeUpdates.recorded);
    assert.equal(r.training.treeUpdates.recorded, 300);
    assert.ok(r.search);
    assert.equal(r.search!.alternative.status, 'completed');
    assert.equal(r.search!.sameCandidates, true);
    assert.equal(r.search!.sameChoice, true);
    assert.equal(r.search!.alternative.bestIsCertain, true);
    assert.equal(r.search!.alternative.validationBatchEvaluations, r.search!.recorded.validationBatchEvaluations);
    assert.equal(r.search!.tree!.identical, true);
    // the recorded samples are exactly what this policy would draw
    assert.equal(r.training.policy!.steps, 200);
    assert.ok(Math.abs(r.training.policy!.meanLogProbabilityAlternative! - r.training.policy!.meanLogProbabilityRecorded!) < 1e-9);
  });

  it('another beta changes Ltilde, every Qbar and G, but not the visit counts', async () => {
    const events = await history();
    const r = await whatIf(events, { space, hyperparameters: { beta: 0.9 } });
    const t = r.training.tree;
    assert.equal(t.identical, false);
    assert.notEqual(t.movingAverageLoss.alternative, t.movingAverageLoss.recorded);
    assert.equal(t.maxAbsVisitDiff, 0);
    assert.ok(t.maxAbsQbarDiff > 0);
    assert.ok(t.g.maxAbsDiff > 0);
    assert.ok(t.largest.length > 0 && t.largest.length <= 20);
    assert.ok(t.largest.every((d, i) => i === 0 || Math.abs(t.largest[i - 1]!.dqbar) >= Math.abs(d.dqbar)));
    assert.equal(t.nodes.onlyRecorded + t.nodes.onlyAlternative, 0);
  });

  it('another gamma changes only G', async () => {
    const events = await history();
    const r = await whatIf(events, { hyperparameters: { gamma: 0.5 } });
    assert.equal(r.training.tree.maxAbsQbarDiff, 0);
    assert.equal(r.training.tree.maxAbsVisitDiff, 0);
    assert.ok(r.training.tree.g.maxAbsDiff > 0);
    assert.equal(r.search, null, 'no space given: no search rerun');
    assert.ok(r.notes.some((n) => n.includes('no search space')));
  });

  it('a longer warm-up removes tree updates; a shorter schedule ignores late rewards', async () => {
    const events = await history();
    const longer = await whatIf(events, { schedule: { ...schedule, warmupSteps: 50, treeBuildingSteps: 70 } });
    assert.equal(longer.training.treeUpdates.alternative, 270);
    assert.equal(longer.training.tree.identical, false);
    const shorter = await whatIf(events, { schedule: { ...schedule, mctSteps: 100 } });
    assert.equal(shorter.training.ignoredSteps, 100);
    assert.equal(shorter.training.treeUpdates.alternative, 200);
  });

  it('a different search policy reports differences or unavailable evaluations, never invented numbers', async () => {
    const events = await history();
    const recordedBatches = new Set(events.flatMap((e) => (e.type === 'ValidationBatchEvaluated' ? [e.data.architecture.join('')] : [])));
    // tau 1 (a near-uniform selection) soon asks for a validation batch of an architecture the
    // record never evaluated: the rerun stops there, reporting it, with no choice and no tree.
    const warm = (await whatIf(events, { space, hyperparameters: { tau: 1 } })).search!;
    assert.equal(warm.alternative.status, 'unavailable');
    const u = warm.alternative.unavailable[warm.alternative.unavailable.length - 1]!;
    assert.equal(u.kind, 'validation-batch');
    assert.equal(recordedBatches.has(u.architecture.join('')), false);
    assert.equal(warm.sameChoice, null);
    assert.equal(warm.tree, null);
    // A stricter or looser threshold, or more weight on G, still only asks what the record
    // answers (one batch for 1000 evaluations; the tree dominates at tau 0.0025): completed,
    // nothing unavailable, the same certain choice.
    for (const hp of [{ nThreshold: 12 }, { nThreshold: 1 }, { c2: 5 }]) {
      const s = (await whatIf(events, { space, hyperparameters: hp })).search!;
      assert.equal(s.alternative.status, 'completed', JSON.stringify(hp));
      assert.deepEqual(s.alternative.unavailable, [], JSON.stringify(hp));
      assert.equal(s.alternative.bestIsCertain, true, JSON.stringify(hp));
      assert.equal(s.sameChoice, true, JSON.stringify(hp));
    }
    const strict = await whatIf(events, { space, hyperparameters: { nThreshold: 12 } });
    assert.notEqual(strict.search!.sameCandidates && strict.search!.alternative.status === 'completed' && strict.search!.tree?.identical, true);
  });

  it('a different sampling temperature is judged on the recorded paths', async () => {
    const events = await history();
    const r = await whatIf(events, { hyperparameters: { tau: 1 } });
    assert.equal(r.training.tree.identical, true, 'the tree only depends on the recorded losses, beta and gamma');
    assert.ok(r.training.policy!.meanLogProbabilityAlternative! < r.training.policy!.meanLogProbabilityRecorded!);
  });
});
