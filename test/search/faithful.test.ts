/**
 * The authors' search behaviour (DESIGN §2, issue #10), each on a small tree with hand-worked
 * numbers: the search sees only the nodes training created, prunes a parent when its created
 * children are gone, shares one validation batch across `updateDataFreq` evaluations, uses the
 * search window, and starts every search from the tree as training left it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent, EventData } from '../../src/events/catalog.js';
import type { CandidateEvaluator } from '../../src/search/evaluator.js';
import { runHierarchicalSearch } from '../../src/search/hierarchical.js';
import type { SearchEvent } from '../../src/search/session.js';
import { searchSettings } from '../../src/search/settings.js';
import { fold } from '../../src/tree/evolve.js';
import type { FlopsWindow } from '../../src/tree/flops-window.js';
import { nodeAt } from '../../src/tree/queries.js';
import { toPlain, type TreeState } from '../../src/tree/state.js';
import { experiment, simulateTraining, syntheticLoss, tinySpace } from '../tree/helpers.js';
import { fakeEvaluator } from './fake-evaluator.js';

/**
 * A 2 x 2 tree as training left it: root n = 100; [0] n = 99 (Qbar 0.1) with its only created
 * child [0,0]; [1] n = 1 (Qbar 1) with its only created child [1,1]. [0,1] and [1,0] were never
 * created. Ltilde = 1, G = 0.
 */
function trainedTree(options: { searchWindow?: FlopsWindow; updateDataFreq?: number } = {}): TreeState {
  const events: DomainEvent[] = [
    { type: 'ExperimentCreated', data: experiment([2, 2], options) },
    {
      type: 'VisitCountsUpdated',
      data: {
        step: 0,
        source: 'training',
        nodes: [
          { path: [], n: 100, s: 10.9 },
          { path: [0], n: 99, s: 9.9 },
          { path: [0, 0], n: 99, s: 9.9 },
          { path: [1], n: 1, s: 1 },
          { path: [1, 1], n: 1, s: 1 },
        ],
        g: [],
      },
    },
    { type: 'RewardRecorded', data: { step: 0, architecture: [1, 1], loss: 1, movingAverageLoss: 1, reward: 1 } },
  ];
  return fold(events);
}

/** Loss = 1 + 0.1 * batch + 0.01 * (first op): records every (architecture, batch) asked. */
function batchEvaluator(): CandidateEvaluator & { calls: { architecture: string; batch: number }[] } {
  const calls: { architecture: string; batch: number }[] = [];
  return {
    calls,
    validationBatchLoss: (architecture, batch) => {
      calls.push({ architecture: architecture.join(''), batch });
      return 1 + 0.1 * batch + 0.01 * architecture[0]!;
    },
    fullValidation: (architecture) => ({ top1: 90 + architecture[0]!, top5: null, loss: 0.5 }),
  };
}

async function search(state: TreeState, settings: Parameters<typeof runHierarchicalSearch>[2], evaluator: CandidateEvaluator) {
  const events: SearchEvent[] = [];
  const outcome = await runHierarchicalSearch(state, tinySpace([2, 2], [[0, 100], [0, 0]]), settings, { evaluator, emit: (e) => void events.push(e) });
  return { events, outcome, after: fold(events, state) };
}

describe('hierarchical search as the authors run it', () => {
  it('fills only from created children and prunes a parent once its created children are removed', async () => {
    const state = trainedTree();
    const evaluator = batchEvaluator();
    const { events, outcome, after } = await search(state, searchSettings(state, 'f', { candidates: 3 }), evaluator);
    // Root: 100 / 2 >= 6, select [1] (U = 1 vs 0.1, tau = 0.0025). [1]: n = 1 < 6 * 2, so 11
    // fills, all on [1,1] (the only created child; [1,0] would be an untrained path).
    assert.deepEqual(evaluator.calls, Array.from({ length: 11 }, () => ({ architecture: '11', batch: 0 })));
    // Candidates: [1,1]; its removal prunes [1] ([1,0] never existed); then [0,0], whose removal
    // prunes [0] and the root: the space is exhausted after 2 of the 3 asked.
    assert.deepEqual(outcome.evaluated.map((c) => c.architecture.join('')), ['11', '00']);
    assert.equal(outcome.exhausted, true);
    assert.equal(outcome.validationBatchEvaluations, 11);
    // Backups: every evaluation has loss 1.01 (batch 0, op 1), reward Ltilde / loss = 1 / 1.01.
    const reward = 1 / 1.01;
    assert.equal(nodeAt(after, [1, 1]).n, 12);
    assert.ok(Math.abs(nodeAt(after, [1, 1]).s - (1 + 11 * reward)) <= 1e-12 * 12);
    assert.equal(nodeAt(after, []).n, 111);
    assert.equal(nodeAt(after, [1]).removed, true);
    assert.equal(nodeAt(after, [0]).removed, true);
    assert.equal(nodeAt(after, []).removed, true);
    // Nothing below [1] but [1,1] was ever touched: [1,0] was never created.
    assert.equal(after.tree!.find([1, 0]), -1);
    assert.equal(events[0]!.type, 'SearchStarted');
    assert.deepEqual(
      { scope: (events[0]!.data as EventData<'SearchStarted'>).scope, tree: (events[0]!.data as EventData<'SearchStarted'>).tree },
      { scope: 'trained', tree: 'as-trained' },
    );
  });

  it("scope 'any' (the option) also fills from never-created children", async () => {
    const state = trainedTree();
    const evaluator = batchEvaluator();
    await search(state, searchSettings(state, 'f', { candidates: 3, scope: 'any' }), evaluator);
    assert.equal(evaluator.calls.length, 11);
    assert.ok(evaluator.calls.some((c) => c.architecture === '10'), 'an untrained path is explored');
  });

  it('one validation batch serves updateDataFreq consecutive evaluations', async () => {
    const state = trainedTree({ updateDataFreq: 4 });
    const evaluator = batchEvaluator();
    const { events } = await search(state, searchSettings(state, 'f', { candidates: 1 }), evaluator);
    const batches = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
    assert.deepEqual(evaluator.calls.map((c) => c.batch), batches);
    const recorded = events.flatMap((e) => (e.type === 'ValidationBatchEvaluated' ? [[e.data.evaluation, e.data.batch, e.data.loss]] : []));
    assert.deepEqual(recorded, batches.map((b, i) => [i, b, 1 + 0.1 * b + 0.01]));
    // The default is the authors' 1000: all 11 on batch 0 (first test).
    assert.equal(searchSettings(trainedTree(), 'f').updateDataFreq, 1000);
  });

  it('shortlist (the option): factor x K proposals scored on the same fresh batches, the K lowest mean losses fully evaluated', async () => {
    const state = trainedTree();
    // Loss = 1 + 0.1 * batch - 0.01 * (second op): proposals ending in op 1 score lower.
    const calls: { architecture: string; batch: number }[] = [];
    const evaluator: CandidateEvaluator = {
      validationBatchLoss: (architecture, batch) => {
        calls.push({ architecture: architecture.join(''), batch });
        return 1 + 0.1 * batch - 0.01 * architecture[1]!;
      },
      fullValidation: (architecture) => ({ top1: 90 + architecture[1]!, top5: null, loss: 0.5 }),
    };
    const settings = searchSettings(state, 'f', { candidates: 1, scope: 'any', shortlist: { factor: 3, batches: 2 } });
    const { events, outcome } = await search(state, settings, evaluator);
    assert.deepEqual((events[0]!.data as EventData<'SearchStarted'>).shortlist, { factor: 3, batches: 2 });
    const removed = events.flatMap((e) => (e.type === 'CandidateRemoved' ? [`${e.data.reason}:${e.data.architecture.join('')}`] : []));
    // 3 x 1 proposals, each removed as it is proposed (never proposed twice), none evaluated on the way.
    assert.equal(removed.length, 3);
    assert.ok(removed.every((r) => r.startsWith('shortlisted:')), removed.join(' '));
    const proposals = removed.map((r) => r.slice('shortlisted:'.length));
    assert.equal(new Set(proposals).size, 3);
    // The fills (scope 'any', updateDataFreq 1000) all used batch 0; scoring uses batches 1 and 2
    // for every proposal, in proposal order, with no backup.
    const fills = calls.length - 6;
    assert.ok(calls.slice(0, fills).every((c) => c.batch === 0));
    assert.deepEqual(calls.slice(fills), proposals.flatMap((p) => [{ architecture: p, batch: 1 }, { architecture: p, batch: 2 }]));
    const scoring = events.filter((e) => e.type === 'ValidationBatchEvaluated').slice(fills);
    assert.deepEqual(scoring.map((e) => (e.data as EventData<'ValidationBatchEvaluated'>).evaluation), [0, 1, 2, 3, 4, 5].map((i) => fills + i));
    const after = events.slice(events.indexOf(scoring[0]!));
    assert.equal(after.filter((e) => e.type === 'VisitCountsUpdated').length, 0, 'scoring backs nothing up');
    // Mean losses: 1.15 - 0.01 * (second op). The first proposal ending in 1 is the one evaluated.
    const best = proposals.find((p) => p.endsWith('1')) ?? proposals[0]!;
    assert.deepEqual(outcome.evaluated.map((c) => c.architecture.join('')), [best]);
    assert.equal(outcome.validationBatchEvaluations, fills + 6);
    // Off by default (the authors' search).
    assert.equal(searchSettings(state, 'f').shortlist, null);
  });

  it('uses the search window, not the training window', async () => {
    // FLOPs = 1000 + 100 * (layer-0 op): the search window [1000, 1050] admits only [0, *].
    const state = trainedTree({ searchWindow: { min: 1000, max: 1050 } });
    assert.equal(state.config!.flopsWindow, null, 'training had no window');
    const settings = searchSettings(state, 'f', { candidates: 3 });
    assert.deepEqual(settings.flopsWindow, { min: 1000, max: 1050 });
    const { events, outcome } = await search(state, settings, batchEvaluator());
    assert.deepEqual((events[0]!.data as EventData<'SearchStarted'>).flopsWindow, { min: 1000, max: 1050 });
    // The first fill under [1] is [1,1] (1100 FLOPs): removed, [1] pruned, restart; then [0,0].
    assert.deepEqual(
      events.map((e) => (e.type === 'CandidateRemoved' ? `${e.data.reason}:${e.data.architecture.join('')}` : e.type)),
      ['SearchStarted', 'flops-window:11', 'CandidateEvaluated', 'evaluated:00', 'SearchCompleted'],
    );
    assert.deepEqual(outcome.evaluated.map((c) => c.architecture.join('')), ['00']);
  });

  it('every search starts from the tree as training left it', async () => {
    const opCounts = [3, 3];
    const space = tinySpace(opCounts);
    const created = experiment(opCounts, { schedule: { stepsPerEpoch: 1, warmupSteps: 2, treeBuildingSteps: 30, mctSteps: 30 }, hp: { tau: 0.05, nThreshold: 30 } });
    const { state } = simulateTraining(space, created, syntheticLoss(2));
    const run = async (from: TreeState, searchId: string) => {
      const events: SearchEvent[] = [];
      await runHierarchicalSearch(from, space, searchSettings(from, searchId, { candidates: 3 }), { evaluator: fakeEvaluator(4), emit: (e) => void events.push(e) });
      return events;
    };
    const first = await run(state, 's1');
    const afterFirst = fold(first, state);
    assert.ok(afterFirst.search!.validationBatchEvaluations > 0, 'the first search backed rewards up');
    const second = await run(afterFirst, 's2');
    // Same seed, same starting tree: the second search makes the first one's decisions.
    const strip = (events: SearchEvent[]) => events.map((e) => JSON.stringify({ ...e, data: { ...e.data, searchId: '' } }));
    assert.deepEqual(strip(second), strip(first));
    // The tree right after the second SearchStarted is the trained tree, node for node.
    const started = fold([second[0]!], afterFirst);
    assert.deepEqual(toPlain(started).nodes, toPlain(state).nodes);
    assert.deepEqual(toPlain(started).g, toPlain(state).g);
    // A v1 SearchStarted ('continued') keeps the first search's backups, as old histories did.
    const continued = fold([{ type: 'SearchStarted', data: { ...(second[0]!.data as EventData<'SearchStarted'>), tree: 'continued' } }], afterFirst);
    assert.equal(nodeAt(continued, []).n, nodeAt(afterFirst, []).n);
    assert.notEqual(nodeAt(continued, []).n, nodeAt(state, []).n);
  });
});
