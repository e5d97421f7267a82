import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rngFor, uniformAt } from '../../src/random/counter-rng.js';
import { evolve, fold, TreeProjector } from '../../src/tree/evolve.js';
import { drawIndex, trainingChildScores } from '../../src/tree/policy.js';
import { decideReward } from '../../src/tree/reward.js';
import { mctPathProbabilities, sampleArchitecture, SAMPLING_PURPOSE } from '../../src/tree/sampling.js';
import { phaseBoundaries, scheduleFromEpochs, totalTrainingSteps, trainingPhaseAt } from '../../src/tree/schedule.js';
import { phaseChangeAt } from '../../src/tree/sampling.js';
import { withCode } from '../support/errors.js';
import type { TreeState } from '../../src/tree/state.js';
import { experiment, simulateTraining, syntheticLoss, tinySpace } from './helpers.js';

const apply = (s: TreeState, events: { type: string; data: unknown }[]) => events.reduce((acc, e) => evolve(acc, e as never), s);

describe('schedule', () => {
  const schedule = { stepsPerEpoch: 1, warmupSteps: 3, treeBuildingSteps: 2, mctSteps: 4 };
  it('maps steps to phases at the boundaries', () => {
    assert.deepEqual(
      Array.from({ length: 10 }, (_, t) => trainingPhaseAt(schedule, t)),
      ['warmup', 'warmup', 'warmup', 'tree-building', 'tree-building', 'mct-sampling', 'mct-sampling', 'mct-sampling', 'mct-sampling', null],
    );
    assert.deepEqual(phaseBoundaries(schedule), { treeBuilding: 3, mctSampling: 5, end: 9 });
    assert.equal(totalTrainingSteps(schedule), 9);
    assert.throws(() => trainingPhaseAt(schedule, -1), RangeError);
    assert.throws(() => trainingPhaseAt(schedule, 1.5), RangeError);
  });
  it('skips empty phases', () => {
    const s = { stepsPerEpoch: 1, warmupSteps: 0, treeBuildingSteps: 0, mctSteps: 2 };
    assert.equal(trainingPhaseAt(s, 0), 'mct-sampling');
    assert.equal(trainingPhaseAt({ ...s, treeBuildingSteps: 1 }, 0), 'tree-building');
  });
  it('converts epochs (CIFAR preset: 25 / 5 / 20 epochs)', () => {
    const s = scheduleFromEpochs({ stepsPerEpoch: 196, warmupEpochs: 25, treeBuildingEpochs: 5, mctEpochs: 20 });
    assert.equal(trainingPhaseAt(s, 25 * 196 - 1), 'warmup');
    assert.equal(trainingPhaseAt(s, 25 * 196), 'tree-building');
    assert.equal(trainingPhaseAt(s, 30 * 196), 'mct-sampling');
    assert.equal(trainingPhaseAt(s, 50 * 196), null);
  });
  it('proposes PhaseChanged only on a change', () => {
    let st = fold([{ type: 'ExperimentCreated', data: experiment([2, 2], { schedule }) }]);
    assert.deepEqual(phaseChangeAt(st, 0), { step: 0, from: null, to: 'warmup' });
    st = evolve(st, { type: 'PhaseChanged', data: { step: 0, from: null, to: 'warmup' } });
    assert.equal(phaseChangeAt(st, 2), null);
    assert.deepEqual(phaseChangeAt(st, 3), { step: 3, from: 'warmup', to: 'tree-building' });
    assert.equal(phaseChangeAt(st, 9), null);
  });
});

describe('training sampling', () => {
  const space = tinySpace([3, 3]);

  it('uniform in warm-up: draws come from (seed, step, purpose) and are reproducible', () => {
    const st = fold([{ type: 'ExperimentCreated', data: experiment([3, 3], { seed: 11 }) }]);
    const a = sampleArchitecture(st, space, 0);
    assert.deepEqual(sampleArchitecture(st, space, 0), a);
    const rng = rngFor(11, 0, SAMPLING_PURPOSE.uniform);
    assert.deepEqual(a.architecture, [rng.nextInt(3), rng.nextInt(3)]);
    assert.equal(a.sampler, 'uniform');
    assert.equal(a.phase, 'warmup');
    assert.equal(a.redraws, 0);
    assert.deepEqual(a.probabilities, [
      [1 / 3, 1 / 3, 1 / 3],
      [1 / 3, 1 / 3, 1 / 3],
    ]);
    assert.equal(a.flops, space.flops(a.architecture));
    // another seed draws another sequence
    const other = fold([{ type: 'ExperimentCreated', data: experiment([3, 3], { seed: 12 }) }]);
    const seqA = [0, 1, 2].map((t) => sampleArchitecture(st, space, t).architecture.join(''));
    const seqB = [0, 1, 2].map((t) => sampleArchitecture(other, space, t).architecture.join(''));
    assert.notDeepEqual(seqA, seqB);
  });

  it('MCT sampling descends the tree with softmax(U / tau) per layer', () => {
    let st = fold([{ type: 'ExperimentCreated', data: experiment([3, 3], { hp: { tau: 0.05 } }) }]);
    st = apply(st, decideReward(st, 0, [0, 1], 2.5).events);
    st = apply(st, decideReward(st, 1, [0, 1], 2.0).events);
    st = apply(st, decideReward(st, 2, [1, 1], 1.6).events);
    const sample = sampleArchitecture(st, space, 3);
    assert.equal(sample.phase, 'mct-sampling');
    assert.equal(sample.sampler, 'mct');
    const rootProbs = trainingChildScores(st.tree!, 0, 0, { c1: 0.1, c2: 0.2, tau: 0.05 }).map((c) => c.probability);
    assert.deepEqual(sample.probabilities[0], rootProbs);
    const op0 = drawIndex(rootProbs, uniformAt(7, 3, SAMPLING_PURPOSE.mct, 0));
    assert.equal(sample.architecture[0], op0);
    const childProbs = trainingChildScores(st.tree!, st.tree!.find([op0]), 1, { c1: 0.1, c2: 0.2, tau: 0.05 }).map((c) => c.probability);
    assert.deepEqual(sample.probabilities[1], childProbs);
    assert.equal(sample.architecture[1], drawIndex(childProbs, uniformAt(7, 3, SAMPLING_PURPOSE.mct, 1)));
    assert.deepEqual(mctPathProbabilities(st.tree!, sample.architecture, { c1: 0.1, c2: 0.2, tau: 0.05 }).probabilities, sample.probabilities);
    // the step after needs step 3's reward first
    assert.throws(() => sampleArchitecture(st, space, 4), withCode('SamplingNotReadyError'));
    assert.throws(() => sampleArchitecture(st, space, 5), /past the end/);
  });

  it('FLOPs window: the whole path is redrawn; redraws counts the rejected paths', () => {
    // Layer 0 op 1 costs 100 FLOPs, everything else 0; the window needs op 1 at layer 0.
    const sp = tinySpace([2, 2], [
      [0, 100],
      [0, 0],
    ]);
    const window = { min: 1050, max: 2000 };
    const schedule = { stepsPerEpoch: 1, warmupSteps: 0, treeBuildingSteps: 0, mctSteps: 200 };
    const st = fold([{ type: 'ExperimentCreated', data: experiment([2, 2], { schedule, flopsWindow: window, seed: 3 }) }]);
    // Empty tree: both root children have U = 0, p = 1/2. Attempt k uses draws 2k (layer 0), 2k + 1.
    let sawRedraw = false;
    for (let step = 0; step < 1; step++) {
      const s = sampleArchitecture(st, sp, step);
      let k = 0;
      while (uniformAt(3, step, SAMPLING_PURPOSE.mct, 2 * k) < 0.5) k++;
      assert.equal(s.redraws, k);
      assert.equal(s.sampler, 'mct');
      assert.equal(s.architecture[0], 1);
      assert.ok(s.flops >= window.min && s.flops <= window.max);
      if (k > 0) sawRedraw = true;
    }
    // Find steps with redraws > 0 (states for later steps would need rewards: use fresh trees).
    for (let seed = 0; seed < 50 && !sawRedraw; seed++) {
      const fresh = fold([{ type: 'ExperimentCreated', data: experiment([2, 2], { schedule, flopsWindow: window, seed }) }]);
      const s = sampleArchitecture(fresh, sp, 0);
      let k = 0;
      while (uniformAt(seed, 0, SAMPLING_PURPOSE.mct, 2 * k) < 0.5) k++;
      assert.equal(s.redraws, k);
      if (k > 0) sawRedraw = true;
    }
    assert.ok(sawRedraw, 'some seed needed a redraw');
  });

  it('falls back to uniform-in-window draws when the tree never fits the window', () => {
    const sp = tinySpace([2, 2], [
      [0, 100],
      [0, 0],
    ]);
    const window = { min: 1050, max: 2000 };
    const schedule = { stepsPerEpoch: 1, warmupSteps: 0, treeBuildingSteps: 0, mctSteps: 10 };
    let st = fold([{ type: 'ExperimentCreated', data: experiment([2, 2], { schedule, flopsWindow: window }) }]);
    // G[0][0] = 1: U = (0.2, 0) / 0.0025 -> op 1 has probability e^-80.
    st = evolve(st, { type: 'VisitCountsUpdated', data: { step: 0, source: 'training', nodes: [], g: [{ layer: 0, op: 0, value: 1 }] } });
    const s = sampleArchitecture(st, sp, 0);
    assert.equal(s.sampler, 'uniform-flops');
    assert.equal(s.phase, 'mct-sampling');
    assert.ok(s.redraws > 100, `redraws ${s.redraws} > maxRedraws`);
    assert.equal(s.architecture[0], 1);
    assert.deepEqual(s.probabilities, [
      [0.5, 0.5],
      [0.5, 0.5],
    ]);
  });

  it('constrained fallback reaches a narrow window; an unreachable window throws', () => {
    const L = 12;
    const table = Array.from({ length: L }, () => [0, 1]);
    const sp = tinySpace(new Array(L).fill(2), table);
    const window = { min: 1000 + L, max: 1000 + L }; // only the all-ones path fits (p = 2^-12 uniformly)
    const schedule = { stepsPerEpoch: 1, warmupSteps: 5, treeBuildingSteps: 0, mctSteps: 0 };
    const st = fold([{ type: 'ExperimentCreated', data: experiment(new Array(L).fill(2), { schedule, flopsWindow: window, flopsWindowPhases: ['warmup'], hp: { maxRedraws: 3 } }) }]);
    const s = sampleArchitecture(st, sp, 0);
    assert.equal(s.sampler, 'uniform-flops');
    assert.deepEqual(s.architecture, new Array(L).fill(1));
    assert.equal(s.redraws, 4);
    assert.deepEqual(s.probabilities, new Array(L).fill([0, 1]));
    const impossible = fold([{ type: 'ExperimentCreated', data: experiment(new Array(L).fill(2), { schedule, flopsWindow: { min: 5000, max: 6000 }, flopsWindowPhases: ['warmup'] }) }]);
    assert.throws(() => sampleArchitecture(impossible, sp, 0), withCode('FlopsWindowError'));
  });

  it('a simulated run is deterministic and its MCT samples follow the tree', () => {
    const schedule = { stepsPerEpoch: 10, warmupSteps: 20, treeBuildingSteps: 30, mctSteps: 50 };
    const created = experiment([3, 3, 3], { schedule, hp: { tau: 0.02 } });
    const sp = tinySpace([3, 3, 3]);
    const a = simulateTraining(sp, created, syntheticLoss(1));
    const b = simulateTraining(sp, created, syntheticLoss(1));
    assert.deepEqual(a.events, b.events);
    const samplers = new Set(a.events.flatMap((e) => (e.type === 'ArchitectureSampled' ? [`${e.data.phase}:${e.data.sampler}`] : [])));
    assert.deepEqual([...samplers].sort(), ['mct-sampling:mct', 'tree-building:uniform', 'warmup:uniform']);
    assert.equal(a.state.tree!.n[0], 80); // tree building + MCT steps
    assert.equal(a.events.filter((e) => e.type === 'PhaseChanged').length, 3);
    // Following the tree: every MCT sample's chosen probabilities are the policy's on the tree
    // as of the step before (replayed here), and the draws favour high-probability ops.
    const replay = new TreeProjector();
    let mctSamples = 0;
    let logChosen = 0;
    for (const e of a.events) {
      if (e.type === 'ArchitectureSampled' && e.data.phase === 'mct-sampling') {
        const { probabilities } = mctPathProbabilities(replay.view().tree!, e.data.architecture, { ...created.hyperparameters });
        assert.deepEqual(e.data.chosenProbabilities, e.data.architecture.map((op, l) => probabilities[l]![op]!));
        assert.deepEqual(e.data.probabilities, probabilities);
        logChosen += e.data.chosenProbabilities.reduce((sum, p) => sum + Math.log(p), 0);
        mctSamples++;
      }
      replay.apply(e);
    }
    assert.equal(mctSamples, 50);
    // Uniform draws would give a mean log-probability of 3 ln(1/3) = -3.296 per path.
    assert.ok(logChosen / mctSamples > 3 * Math.log(1 / 3), `mean log p ${logChosen / mctSamples}`);
  });
});
