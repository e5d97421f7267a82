import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETENTION, planPruning, retentionPolicy } from '../../src/checkpoints/retention.js';

const saved = (steps: number[]) => steps.map((step) => ({ step, location: `e/step-${step}.ckpt` }));
const none = new Set<number>();

describe('checkpoint retention policy', () => {
  it('given the defaults, then the newest 3 are kept and nothing else', () => {
    assert.deepEqual(DEFAULT_RETENTION, { keepLast: 3, keepEvery: null });
    const plan = planPruning(saved([9, 19, 29, 39, 49]), retentionPolicy(), { pinned: none, newestVerifiedStep: 49 });
    assert.deepEqual(plan.map((p) => p.step), [9, 19]);
  });

  it('given keepLast, keepEvery and pins, then milestones, pins, the protected and the newest survive', () => {
    const plan = planPruning(saved([4, 9, 14, 19, 24, 29, 34, 39, 44, 49]), retentionPolicy({ keepLast: 2, keepEvery: 20 }), {
      pinned: new Set([9]),
      newestVerifiedStep: 49,
      protectedSteps: new Set([14]),
    });
    assert.deepEqual(plan.map((p) => p.step), [4, 24, 29, 34]);
    assert.match(plan[0]!.reason, /newest 2, not a multiple of 20 steps, not pinned/);
  });

  it('given no verified newest checkpoint, or keepLast null, then nothing is pruned', () => {
    assert.deepEqual(planPruning(saved([1, 2, 3, 4, 5]), retentionPolicy({ keepLast: 1 }), { pinned: none, newestVerifiedStep: null }), []);
    assert.deepEqual(planPruning(saved([1, 2, 3, 4, 5]), retentionPolicy({ keepLast: null }), { pinned: none, newestVerifiedStep: 5 }), []);
  });

  it('given a newest verified checkpoint older than some recorded ones, then nothing at or after it is pruned', () => {
    // e.g. a resume that restored step 9 while 14 is recorded but failed verification
    const plan = planPruning(saved([4, 9, 14]), retentionPolicy({ keepLast: 1 }), { pinned: none, newestVerifiedStep: 9 });
    assert.deepEqual(plan.map((p) => p.step), [4]);
  });

  it('given invalid options, then the error names the option', () => {
    assert.throws(() => retentionPolicy({ keepLast: 0 }), /keepLast: must be a positive integer/);
    assert.throws(() => retentionPolicy({ keepEvery: 2.5 }), /keepEvery: must be a positive integer/);
  });
});
