import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EVOLUTION, evolutionForBudget, runEvolutionarySearch } from '../../src/search/evolutionary.js';
import { runRandomSearch } from '../../src/search/random-search.js';
import type { SearchEvent } from '../../src/search/session.js';
import type { SearchSettings } from '../../src/search/settings.js';
import { withCode } from '../support/errors.js';
import { AUTHORS, tinySpace } from '../tree/helpers.js';
import { fakeEvaluator } from './fake-evaluator.js';

const settings = (over: Partial<SearchSettings> = {}): SearchSettings => ({
  searchId: 'b',
  seed: 5,
  candidates: 20,
  topK: 10,
  flopsWindow: null,
  scope: 'trained',
  updateDataFreq: 1000,
  shortlist: null,
  hyperparameters: AUTHORS,
  referenceLoss: 1,
  ...over,
});

const space = tinySpace([4, 4, 4, 4]); // flops = 1000 + sum(10 * op + l), 1006 .. 1126
const window = { min: 1040, max: 1080 };

function checkRun(events: SearchEvent[], k: number) {
  const evaluated = events.flatMap((e) => (e.type === 'CandidateEvaluated' ? [e.data] : []));
  assert.equal(evaluated.length, k);
  assert.deepEqual(evaluated.map((c) => c.candidate), Array.from({ length: k }, (_, i) => i));
  assert.equal(new Set(evaluated.map((c) => c.architecture.join(''))).size, k, 'no duplicates');
  for (const c of evaluated) {
    assert.ok(c.flops >= window.min && c.flops <= window.max, `${c.architecture} in window`);
    assert.equal(c.flops, space.flops(c.architecture));
  }
  assert.equal(events[0]!.type, 'SearchStarted');
  const last = events[events.length - 1]!;
  assert.equal(last.type, 'SearchCompleted');
  if (last.type === 'SearchCompleted') {
    const best = Math.max(...evaluated.map((c) => c.top1));
    assert.equal(last.data.best.top1, best);
    assert.equal(last.data.top.length, Math.min(10, k));
  }
}

describe('random search', () => {
  it('evaluates K distinct in-window candidates, deterministically', async () => {
    const run = async (seed: number) => {
      const events: SearchEvent[] = [];
      const out = await runRandomSearch(space, settings({ seed, flopsWindow: window }), { evaluator: fakeEvaluator(1), emit: (e) => void events.push(e) });
      return { events, out };
    };
    const a = await run(5);
    checkRun(a.events, 20);
    assert.equal(a.out.exhausted, false);
    assert.deepEqual((await run(5)).events, a.events);
    assert.notDeepEqual((await run(6)).events, a.events);
  });

  it('stops when the window has no unseen path left', async () => {
    const tiny = tinySpace([2, 2]); // 1000 + {0,10} + {1,11}
    const out = await runRandomSearch(tiny, settings({ candidates: 10, flopsWindow: { min: 1000, max: 1011 } }), { evaluator: fakeEvaluator(1), emit: () => {} });
    assert.equal(out.evaluated.length, 3);
    assert.equal(out.exhausted, true);
  });

  it('resumes from recorded events without re-evaluating', async () => {
    const all: SearchEvent[] = [];
    await runRandomSearch(space, settings({ flopsWindow: window }), { evaluator: fakeEvaluator(1), emit: (e) => void all.push(e) });
    const ev = fakeEvaluator(1);
    const tail: SearchEvent[] = [];
    await runRandomSearch(space, settings({ flopsWindow: window }), { evaluator: ev, emit: (e) => void tail.push(e), recorded: all.slice(0, 8) });
    assert.deepEqual([...all.slice(0, 8), ...tail], all);
    assert.equal(ev.fullCalls.length, 13);
  });
});

describe('FLOPs window outside the space', () => {
  it('every strategy refuses to start, emitting nothing', async () => {
    const far = { min: 5000, max: 6000 };
    for (const run of [
      (emit: (e: SearchEvent) => void) => runRandomSearch(space, settings({ flopsWindow: far }), { evaluator: fakeEvaluator(1), emit }),
      (emit: (e: SearchEvent) => void) => runEvolutionarySearch(space, settings({ flopsWindow: far }), { evaluator: fakeEvaluator(1), emit }),
    ]) {
      const events: SearchEvent[] = [];
      await assert.rejects(run((e) => void events.push(e)), withCode('FlopsWindowError'));
      assert.deepEqual(events, []);
    }
  });
});

describe('evolutionary search', () => {
  const evo = { population: 10, generations: 6, mutations: 5, crossovers: 5, parents: 3 };

  it('respects budget, window and distinctness across generations, deterministically', async () => {
    const run = async (k: number, seed = 5) => {
      const events: SearchEvent[] = [];
      const out = await runEvolutionarySearch(space, settings({ seed, candidates: k, flopsWindow: window }), { evaluator: fakeEvaluator(2), emit: (e) => void events.push(e) }, evo);
      return { events, out };
    };
    const a = await run(35); // 10 + 10 + 10 + 5: four generations
    checkRun(a.events, 35);
    assert.deepEqual((await run(35)).events, a.events);
    assert.notDeepEqual((await run(35, 6)).events, a.events);
    checkRun((await run(4)).events, 4);
    // With the generation limit below the budget the search ends early (6 x 10 = 60 < 100).
    const capped = await run(100);
    assert.equal(capped.out.evaluated.length, 60);
    assert.equal(capped.out.exhausted, true);
  });

  it('offspring come from the best parents (mutation/crossover beat random on the fake supernet)', async () => {
    const big = tinySpace([5, 5, 5, 5, 5, 5]);
    const k = 200;
    const random = await runRandomSearch(big, settings({ candidates: k }), { evaluator: fakeEvaluator(3), emit: () => {} });
    const evolved = await runEvolutionarySearch(big, settings({ candidates: k }), { evaluator: fakeEvaluator(3), emit: () => {} }, { population: 20, generations: 10, mutations: 10, crossovers: 10, parents: 5 });
    const mean = (xs: { top1: number }[]) => xs.reduce((s, x) => s + x.top1, 0) / xs.length;
    assert.ok(mean(evolved.top) >= mean(random.top), `evolution top-10 ${mean(evolved.top)} vs random ${mean(random.top)}`);
  });

  it('stops when the window runs out of unseen paths', async () => {
    const tiny = tinySpace([2, 2]);
    const out = await runEvolutionarySearch(tiny, settings({ candidates: 10 }), { evaluator: fakeEvaluator(1), emit: () => {} }, evo);
    assert.equal(out.evaluated.length, 4);
    assert.equal(out.exhausted, true);
  });

  it('scales its population to the budget: min(50, ceil(K / 2)), SPOS ratios for offspring and parents', async () => {
    const pick = (k: number) => {
      const e = evolutionForBudget(k);
      return [e.population, e.mutations, e.crossovers, e.parents, e.generations];
    };
    assert.deepEqual(pick(20), [10, 5, 5, 2, 20]);
    assert.deepEqual(pick(7), [4, 2, 2, 1, 20]);
    assert.deepEqual(pick(99), [50, 25, 25, 10, 20]);
    assert.equal(evolutionForBudget(100), DEFAULT_EVOLUTION);
    // At K = 20 the second half are offspring of the best two of the first ten (a real
    // evolution, not the random initial population): each child is a mutation or crossover.
    const big = tinySpace([5, 5, 5, 5, 5, 5]);
    const out = await runEvolutionarySearch(big, settings({ candidates: 20 }), { evaluator: fakeEvaluator(3), emit: () => {} });
    assert.equal(out.evaluated.length, 20);
    const first = out.evaluated.slice(0, 10);
    const parents = [...first].sort((a, b) => b.top1 - a.top1 || a.candidate - b.candidate).slice(0, 2).map((c) => c.architecture);
    for (const child of out.evaluated.slice(10, 15)) {
      // mutations (p = 0.1 per layer) of one of the two parents: each layer from a parent or redrawn
      const near = parents.some((p) => p.filter((op, l) => op !== child.architecture[l]).length <= 3);
      assert.ok(near, `mutation [${child.architecture}] is within 3 layers of a parent`);
    }
    for (const child of out.evaluated.slice(15, 20)) {
      assert.ok(child.architecture.every((op, l) => parents.some((p) => p[l] === op)), `crossover [${child.architecture}] takes every layer from a parent`);
    }
  });
});
