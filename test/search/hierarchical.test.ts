import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent, EventData } from '../../src/events/catalog.js';
import { runHierarchicalSearch } from '../../src/search/hierarchical.js';
import { rankCandidates } from '../../src/search/outcome.js';
import { withCode } from '../support/errors.js';
import { searchSettings } from '../../src/search/settings.js';
import type { SearchEvent } from '../../src/search/session.js';
import { fold } from '../../src/tree/evolve.js';
import { nodeAt } from '../../src/tree/queries.js';
import { experiment, simulateTraining, syntheticLoss, tinySpace } from '../tree/helpers.js';
import { fakeEvaluator } from './fake-evaluator.js';

/**
 * A 2 x 2 tree after "training": root n = 100; [0] n = 99 with Qbar 0.1; [1] n = 1 with Qbar 1.
 * Ltilde = 1. The selection at the root strongly prefers [1] (tau = 0.0025).
 */
function skewedTree(window: { min: number; max: number } | null = null) {
  const events: DomainEvent[] = [
    { type: 'ExperimentCreated', data: experiment([2, 2], { flopsWindow: window }) },
    {
      type: 'VisitCountsUpdated',
      data: {
        step: 0,
        source: 'training',
        nodes: [
          { path: [], n: 100, s: 10.9 },
          { path: [0], n: 99, s: 9.9 },
          { path: [1], n: 1, s: 1 },
        ],
        g: [],
      },
    },
    { type: 'RewardRecorded', data: { step: 0, architecture: [1, 0], loss: 1, movingAverageLoss: 1, reward: 1 } },
  ];
  return fold(events);
}

async function collect(run: (emit: (e: SearchEvent) => void) => Promise<unknown>): Promise<SearchEvent[]> {
  const out: SearchEvent[] = [];
  await run((e) => void out.push(e));
  return out;
}

describe('hierarchical node selection', () => {
  it('re-evaluates an under-visited node until n / N_l >= n_thrd, then selects by softmax', async () => {
    const state = skewedTree();
    const space = tinySpace([2, 2]);
    const evaluator = fakeEvaluator(1);
    const events = await collect((emit) => runHierarchicalSearch(state, space, searchSettings(state, 'h', { candidates: 3, scope: 'any' }), { evaluator, emit }));
    // [1] has n = 1 and N_1 = 2: it needs n >= 2 * 6 = 12, i.e. exactly 11 validation batches,
    // all below [1]; the root (n = 100) already passes.
    assert.equal(evaluator.batchCalls.length, 11);
    assert.ok(evaluator.batchCalls.every((a) => a[0] === 1));
    const validations = events.filter((e) => e.type === 'ValidationBatchEvaluated');
    assert.deepEqual(validations.map((e) => e.data.evaluation), Array.from({ length: 11 }, (_, i) => i));
    for (const v of validations) assert.equal(v.data.reward, 1 / v.data.loss);
    // each validation is followed by its backup (source 'search', step = evaluation index)
    events.forEach((e, i) => {
      if (e.type !== 'ValidationBatchEvaluated') return;
      const next = events[i + 1]!;
      assert.equal(next.type, 'VisitCountsUpdated');
      const v = next.data as EventData<'VisitCountsUpdated'>;
      assert.equal(v.source, 'search');
      assert.equal(v.step, e.data.evaluation);
      assert.deepEqual(v.nodes.map((n) => n.path), [[], [1], e.data.architecture]);
    });
    const candidates = events.flatMap((e) => (e.type === 'CandidateEvaluated' ? [e.data.architecture] : []));
    // Candidates 1 and 2 are the two leaves under [1]; then [1] is removed (pruned) and the
    // third candidate comes from [0], which already passes the threshold (n = 99).
    assert.equal(candidates.length, 3);
    assert.deepEqual(candidates.slice(0, 2).map((a) => a[0]).sort(), [1, 1]);
    assert.notDeepEqual(candidates[0], candidates[1]);
    assert.equal(candidates[2]![0], 0);
    const completed = events[events.length - 1]!;
    assert.equal(completed.type, 'SearchCompleted');
    assert.equal((completed.data as EventData<'SearchCompleted'>).validationBatchEvaluations, 11);
    // The tree the events produce: [1] got 11 search visits and is removed.
    const after = fold(events, state);
    assert.equal(nodeAt(after, [1]).n, 12);
    assert.equal(nodeAt(after, []).n, 111);
    assert.equal(nodeAt(after, [1]).removed, true);
    assert.equal(after.search!.evaluated, 3);
  });

  it('removes out-of-window fills and restarts from the root when every child is removed', async () => {
    // layer 0 op 1 adds 100 FLOPs; the window only admits op 0 at layer 0.
    const space = tinySpace([2, 2], [
      [0, 100],
      [0, 0],
    ]);
    const window = { min: 1000, max: 1050 };
    const state = skewedTree(window);
    const evaluator = fakeEvaluator(2);
    const events = await collect((emit) => runHierarchicalSearch(state, space, searchSettings(state, 'h', { candidates: 2, scope: 'any' }), { evaluator, emit }));
    assert.deepEqual(
      events.map((e) => (e.type === 'CandidateRemoved' ? `removed:${e.data.reason}:${e.data.architecture[0]}` : e.type)),
      [
        'SearchStarted',
        'removed:flops-window:1',
        'removed:flops-window:1',
        'CandidateEvaluated',
        'removed:evaluated:0',
        'CandidateEvaluated',
        'removed:evaluated:0',
        'SearchCompleted',
      ],
    );
    const removedFills = events.flatMap((e) => (e.type === 'CandidateRemoved' && e.data.reason === 'flops-window' ? [e.data.architecture.join('')] : []));
    assert.deepEqual(removedFills.sort(), ['10', '11'], 'the second fill only draws from the remaining child');
    assert.equal(evaluator.batchCalls.length, 0);
    const after = fold(events, state);
    assert.equal(nodeAt(after, []).removed, true, 'every leaf is gone');
  });

  it('K only stops the loop: the first k candidates of a K = 20 search are a K = k search\'s, so its best of the first k is what budget k chooses (the search-number curve)', async () => {
    const opCounts = [3, 3, 3, 3];
    const space = tinySpace(opCounts);
    const created = experiment(opCounts, { schedule: { stepsPerEpoch: 10, warmupSteps: 20, treeBuildingSteps: 60, mctSteps: 120 }, hp: { nThreshold: 2 } });
    const { state } = simulateTraining(space, created, syntheticLoss(7));
    const run = (k: number) => runHierarchicalSearch(state, space, searchSettings(state, 'h', { candidates: k }), { evaluator: fakeEvaluator(7), emit: () => undefined });
    const long = await run(20);
    assert.equal(long.evaluated.length, 20);
    for (const k of [1, 5, 10]) {
      const short = await run(k);
      assert.deepEqual(short.evaluated, long.evaluated.slice(0, k), `K = ${k}: the same candidates in the same order`);
      assert.deepEqual(short.best, rankCandidates(long.evaluated.slice(0, k))[0], `K = ${k}: the same choice`);
    }
  });

  it('evaluates K distinct candidates, never re-proposes one, and stops when the space is exhausted', async () => {
    const opCounts = [3, 3, 3];
    const space = tinySpace(opCounts);
    const created = experiment(opCounts, {
      schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 60, mctSteps: 60 },
      hp: { tau: 0.01, nThreshold: 2 },
      flopsWindow: { min: 1000, max: 1045 },
    });
    const { state, events: training } = simulateTraining(space, created, syntheticLoss(3));
    const evaluator = fakeEvaluator(3);
    let outcome!: Awaited<ReturnType<typeof runHierarchicalSearch>>;
    const events = await collect(async (emit) => {
      outcome = await runHierarchicalSearch(state, space, searchSettings(state, 'h', { candidates: 12, topK: 5 }), { evaluator, emit });
    });
    const keys = outcome.evaluated.map((c) => c.architecture.join(''));
    assert.equal(keys.length, 12);
    assert.equal(new Set(keys).size, 12);
    assert.ok(outcome.evaluated.every((c) => c.flops >= 1000 && c.flops <= 1045));
    assert.deepEqual(evaluator.fullCalls.map((a) => a.join('')), keys);
    events.forEach((e, i) => {
      if (e.type === 'CandidateEvaluated') {
        assert.deepEqual(events[i + 1], { type: 'CandidateRemoved', data: { searchId: 'h', architecture: e.data.architecture, reason: 'evaluated' } });
      }
    });
    assert.equal(outcome.top.length, 5);
    assert.ok(outcome.top.every((c, i) => i === 0 || outcome.top[i - 1]!.top1 >= c.top1));
    assert.deepEqual(outcome.best, outcome.top[0]);
    // Replaying training + search events gives the strategy's tree.
    const full = fold([...training, ...events]);
    assert.equal(full.tree!.n[0], state.tree!.n[0]! + outcome.validationBatchEvaluations);
    // Exhaustion: ask for more than the window holds.
    const inWindow = [];
    for (let a = 0; a < 27; a++) {
      const arch = [Math.floor(a / 9), Math.floor(a / 3) % 3, a % 3];
      if (space.flops(arch) <= 1045) inWindow.push(arch);
    }
    const all = await runHierarchicalSearch(state, space, searchSettings(state, 'h2', { candidates: 100, scope: 'any' }), { evaluator: fakeEvaluator(3), emit: () => {} });
    assert.equal(all.exhausted, true);
    assert.equal(all.evaluated.length, inWindow.length);
  });

  it('is deterministic given the seed, and resumes from its recorded events', async () => {
    const opCounts = [3, 3, 3];
    const space = tinySpace(opCounts);
    const created = experiment(opCounts, {
      schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 40, mctSteps: 40 },
      hp: { tau: 0.01, nThreshold: 6 },
    });
    const { state } = simulateTraining(space, created, syntheticLoss(5));
    const settings = searchSettings(state, 'h', { candidates: 6 });
    const run = (seed: number, recorded?: SearchEvent[]) =>
      collect((emit) => runHierarchicalSearch(state, space, { ...settings, seed }, { evaluator: fakeEvaluator(9), emit, recorded }));
    const a = await run(7);
    const b = await run(7);
    assert.deepEqual(a, b);
    assert.ok(a.filter((e) => e.type === 'ValidationBatchEvaluated').length > 5);
    const c = await run(8);
    assert.notDeepEqual(c, a);
    for (const k of [1, 2, 5, Math.floor(a.length / 2), a.length - 1, a.length]) {
      const evaluator = fakeEvaluator(9);
      const tail: SearchEvent[] = [];
      await runHierarchicalSearch(state, space, { ...settings, seed: 7 }, { evaluator, emit: (e) => void tail.push(e), recorded: a.slice(0, k) });
      assert.deepEqual([...a.slice(0, k), ...tail], a, `resume after ${k} events`);
      assert.equal(evaluator.fullCalls.length, a.slice(k).filter((e) => e.type === 'CandidateEvaluated').length);
    }
    // A recorded prefix that the replay does not reproduce is refused.
    const i = a.findIndex((e) => e.type === 'ValidationBatchEvaluated');
    const tampered = a.slice(0, i + 2).map((e, j) => (j === i ? ({ ...e, data: { ...e.data, loss: 123 } } as SearchEvent) : e));
    await assert.rejects(
      runHierarchicalSearch(state, space, { ...settings, seed: 7 }, { evaluator: fakeEvaluator(9), emit: () => {}, recorded: tampered }),
      withCode('SearchReplayError'),
    );
  });

  it('an aborted search resumes to the same events', async () => {
    const opCounts = [3, 3];
    const space = tinySpace(opCounts);
    const { state } = simulateTraining(space, experiment(opCounts, { schedule: { stepsPerEpoch: 1, warmupSteps: 2, treeBuildingSteps: 20, mctSteps: 10 } }), syntheticLoss(6));
    const settings = searchSettings(state, 'h', { candidates: 4 });
    const full = await collect((emit) => runHierarchicalSearch(state, space, settings, { evaluator: fakeEvaluator(1), emit }));
    const controller = new AbortController();
    const stored: SearchEvent[] = [];
    await assert.rejects(
      runHierarchicalSearch(state, space, settings, {
        evaluator: fakeEvaluator(1),
        emit: (e) => {
          stored.push(e);
          if (stored.length === 9) controller.abort();
        },
        signal: controller.signal,
      }),
      { name: 'AbortError' },
    );
    await runHierarchicalSearch(state, space, settings, { evaluator: fakeEvaluator(1), emit: (e) => void stored.push(e), recorded: [...stored] });
    assert.deepEqual(stored, full);
  });
});
