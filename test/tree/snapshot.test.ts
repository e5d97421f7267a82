import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent } from '../../src/events/catalog.js';
import { rngFor, type Rng } from '../../src/random/counter-rng.js';
import { runHierarchicalSearch } from '../../src/search/hierarchical.js';
import { searchSettings } from '../../src/search/settings.js';
import type { SearchEvent } from '../../src/search/session.js';
import { fold } from '../../src/tree/evolve.js';
import type { ProjectableEvent } from '../../src/tree/events.js';
import { deserialize, serialize, snapshotPosition } from '../../src/tree/snapshot.js';
import { withCode } from '../support/errors.js';
import { initialTreeState, toPlain } from '../../src/tree/state.js';
import { experiment, simulateTraining, syntheticLoss, tinySpace } from './helpers.js';
import { fakeEvaluator } from '../search/fake-evaluator.js';

function withPositions(events: { type: string; data: unknown }[], from = 1): ProjectableEvent[] {
  return events.map((e, i) => ({ ...e, position: from + i, streamVersion: from + i }) as ProjectableEvent);
}

/** A random but valid event sequence (arbitrary paths and values, removals, searches). */
function randomHistory(rng: Rng, length: number): ProjectableEvent[] {
  const opCounts = Array.from({ length: 1 + rng.nextInt(4) }, () => 1 + rng.nextInt(4));
  const L = opCounts.length;
  const randomPath = (len: number) => Array.from({ length: len }, (_, d) => rng.nextInt(opCounts[d]!));
  const out: { type: string; data: unknown }[] = [{ type: 'ExperimentCreated', data: experiment(opCounts, { seed: rng.nextInt(1000) }) }];
  let search = 0;
  for (let i = 0; i < length; i++) {
    const r = rng.next();
    if (r < 0.5) {
      const leaf = randomPath(L);
      out.push({
        type: 'VisitCountsUpdated',
        data: {
          step: i,
          source: rng.next() < 0.8 ? 'training' : 'search',
          nodes: Array.from({ length: L + 1 }, (_, d) => ({ path: leaf.slice(0, d), n: rng.nextInt(100), s: rng.next() * 10 - 2 })),
          g: leaf.map((op, layer) => ({ layer, op, value: rng.next() })),
        },
      });
    } else if (r < 0.65) {
      out.push({ type: 'RewardRecorded', data: { step: i, architecture: randomPath(L), loss: 0.5 + rng.next(), movingAverageLoss: rng.next(), reward: rng.next() } });
    } else if (r < 0.75) {
      out.push({
        type: 'ArchitectureSampled',
        data: { step: i, architecture: randomPath(L), phase: 'mct-sampling', sampler: 'mct', probabilities: null, chosenProbabilities: [], flops: 10, redraws: rng.nextInt(3) },
      });
    } else if (r < 0.8 || search === 0) {
      search++;
      out.push({ type: 'SearchStarted', data: { searchId: `s${search}`, strategy: 'hierarchical', candidates: 5, topK: 3, referenceLoss: rng.next(), flopsWindow: null, scope: search % 2 ? 'trained' : 'any', tree: search % 3 ? 'as-trained' : 'continued', updateDataFreq: 1000, shortlist: null } });
    } else if (r < 0.9) {
      out.push({ type: 'CandidateRemoved', data: { searchId: `s${search}`, architecture: randomPath(L), reason: 'evaluated' } });
    } else if (r < 0.95) {
      out.push({
        type: 'CandidateEvaluated',
        data: { searchId: `s${search}`, candidate: i, architecture: randomPath(L), top1: rng.next() * 100, top5: null, loss: rng.next(), flops: 1, params: 1 },
      });
    } else {
      out.push({ type: 'PhaseChanged', data: { step: i, from: null, to: 'search' } });
    }
  }
  return withPositions(out);
}

describe('snapshots', () => {
  it('round-trips the empty state and a trained tree exactly', () => {
    const empty = initialTreeState();
    assert.deepEqual(toPlain(deserialize(serialize(empty))), toPlain(empty));
    const { events, state } = simulateTraining(
      tinySpace([3, 3, 3]),
      experiment([3, 3, 3], { schedule: { stepsPerEpoch: 1, warmupSteps: 5, treeBuildingSteps: 50, mctSteps: 50 } }),
      syntheticLoss(3),
    );
    const buf = serialize(state);
    const back = deserialize(buf);
    assert.deepEqual(toPlain(back), toPlain(state));
    assert.deepEqual(serialize(back), buf);
    assert.deepEqual(snapshotPosition(buf), { position: events.length, streamVersion: events.length, eventCount: events.length });
    // An unaligned copy (e.g. a slice of a larger buffer read from a database) also loads.
    const padded = Buffer.alloc(buf.length + 3);
    buf.copy(padded, 3);
    assert.deepEqual(toPlain(deserialize(padded.subarray(3))), toPlain(state));
  });

  it('snapshot + tail equals replay from zero on a history of thousands of steps with a search', async () => {
    const opCounts = [4, 4, 4, 4];
    const space = tinySpace(opCounts);
    const created = experiment(opCounts, {
      schedule: { stepsPerEpoch: 100, warmupSteps: 200, treeBuildingSteps: 1000, mctSteps: 2000 },
      hp: { tau: 0.01, nThreshold: 2 },
      flopsWindow: { min: 1000, max: 1080 },
      candidates: 8,
    });
    const run = simulateTraining(space, created, syntheticLoss(4));
    const searchEvents: SearchEvent[] = [];
    await runHierarchicalSearch(run.state, space, searchSettings(run.state, 'search-1'), {
      evaluator: fakeEvaluator(5),
      emit: (e) => void searchEvents.push(e),
    });
    const events = [...run.events, ...withPositions(searchEvents, run.events.length + 1)];
    assert.ok(events.length > 9000, `history has ${events.length} events`);
    const full = fold(events);
    assert.ok(full.tree!.removedCount > 0);
    const fullBytes = serialize(full);
    const cuts = [0, 1, 2, 10, 999, 4321, run.events.length, run.events.length + 3, events.length - 1, events.length];
    const rng = rngFor(1, 0, 'test:cuts');
    for (let i = 0; i < 10; i++) cuts.push(rng.nextInt(events.length + 1));
    for (const k of cuts) {
      const snap = serialize(fold(events.slice(0, k)));
      assert.equal(snapshotPosition(snap).position, k === 0 ? 0 : k);
      const resumed = fold(events.slice(k), deserialize(snap));
      assert.deepEqual(toPlain(resumed), toPlain(full), `cut at ${k}`);
      assert.deepEqual(serialize(resumed), fullBytes, `bytes at cut ${k}`);
    }
  });

  it('property: snapshot + tail equals full replay for random event sequences', () => {
    for (let seed = 0; seed < 40; seed++) {
      const rng = rngFor(seed, 0, 'test:history');
      const events = randomHistory(rng, 50 + rng.nextInt(300));
      const full = fold(events);
      for (let j = 0; j < 3; j++) {
        const k = rng.nextInt(events.length + 1);
        const resumed = fold(events.slice(k), deserialize(serialize(fold(events.slice(0, k)))));
        assert.deepEqual(toPlain(resumed), toPlain(full), `seed ${seed}, cut ${k}`);
      }
    }
  });

  it('rejects corrupt snapshots', () => {
    const state = fold([{ type: 'ExperimentCreated', data: experiment([2, 2]) } as DomainEvent]);
    const buf = serialize(state);
    const badMagic = Buffer.from(buf);
    badMagic[0] = 0;
    assert.throws(() => deserialize(badMagic), withCode('SnapshotError'));
    assert.throws(() => deserialize(buf.subarray(0, buf.length - 1)), withCode('SnapshotError'));
    assert.throws(() => deserialize(buf.subarray(0, 5)), withCode('SnapshotError'));
    const badVersion = Buffer.from(buf);
    badVersion.writeUInt32LE(99, 4);
    assert.throws(() => deserialize(badVersion), /version/);
  });
});
