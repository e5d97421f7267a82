import type { NewEvent } from '../../src/events/event-store.js';
import { rngFor } from '../../src/random/counter-rng.js';
import type { Runtime } from '../../src/runtime.js';
import { TreeProjector } from '../../src/tree/evolve.js';
import { decideReward } from '../../src/tree/reward.js';

const APPEND_BATCH = 1500;

/**
 * An experiment whose tree is built from `steps` synthetic tree-building steps (3 events each),
 * appended in big batches. On the ImageNet space (the default) ~18 new nodes per step: 6000
 * steps give ~110k nodes; on NAS-Bench-Macro the tree stops growing at 9,841 nodes.
 */
export async function buildSyntheticTree(runtime: Runtime, steps: number, preset: 'imagenet' | 'nas-bench-macro' = 'imagenet'): Promise<{ id: string; seconds: number }> {
  const { id } = await runtime.service.create({
    name: `synthetic ${preset} tree, ${steps} steps`,
    searchSpace: { preset },
    schedule: { stepsPerEpoch: 1000, warmupSteps: 0, treeBuildingSteps: steps, mctSteps: 0 },
    dataset: { kind: 'synthetic' },
    seed: 1,
  });
  const local = new TreeProjector();
  local.applyAll(await runtime.store.readStream(id));
  const opCounts = local.view().config!.opCounts;
  const started = process.hrtime.bigint();
  const phase = { type: 'PhaseChanged' as const, data: { step: 0, from: null, to: 'tree-building' as const } };
  local.apply(phase);
  let batch: NewEvent[] = [phase];
  let version = 1;
  for (let step = 0; step < steps; step++) {
    const rng = rngFor(1, step, 'bench-architecture');
    const architecture = opCounts.map((n) => rng.nextInt(n));
    // Probabilities left empty: snapshot reads never look at them, and they would triple the rows.
    const sampled = { type: 'ArchitectureSampled' as const, data: { step, architecture, phase: 'tree-building' as const, sampler: 'uniform' as const, probabilities: null, chosenProbabilities: architecture.map(() => 1 / 3), flops: 0, redraws: 0 } };
    local.apply(sampled);
    const decision = decideReward(local.view(), step, architecture, 2.5 - architecture.reduce((a, b) => a + b, 0) * 0.01 + rng.next() * 0.1);
    for (const e of decision.events) local.apply(e);
    batch.push(sampled, ...decision.events);
    if (batch.length >= APPEND_BATCH || step === steps - 1) {
      version = (await runtime.store.append(id, version, batch)).version;
      batch = [];
    }
  }
  return { id, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
