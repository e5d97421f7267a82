import type { NewEvent } from '../src/events/event-store.js';

/** One training step's events as a worker commits them: the sample, the reward, the visit counts. */
export function stepEvents(step: number): NewEvent[] {
  const architecture = [0, 1, 2, 1, 0, 2, 1, 0];
  return [
    {
      type: 'ArchitectureSampled',
      data: { step, architecture, phase: 'mct-sampling', sampler: 'mct', probabilities: null, chosenProbabilities: architecture.map((op) => [0.2, 0.3, 0.5][op]!), flops: 4.7e7, redraws: 0 },
      idempotencyKey: `step:${step}:sample`,
    },
    {
      type: 'RewardRecorded',
      data: { step, architecture, loss: 2.302585092994046 - (step % 1000) * 1e-4, movingAverageLoss: 2.1034981234 + (step % 777) * 1e-5, reward: 0.9134527189 + (step % 313) * 1e-6 },
      idempotencyKey: `step:${step}:reward`,
    },
    {
      type: 'VisitCountsUpdated',
      data: { step, source: 'training', nodes: [{ path: [], n: step + 1, s: step * 0.9 }, { path: [0], n: 3, s: 2.7 }], g: [{ layer: 0, op: 0, value: 0.5 }] },
      idempotencyKey: `step:${step}:visits`,
    },
  ];
}
