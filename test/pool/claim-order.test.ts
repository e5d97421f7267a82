/**
 * The order pool workers claim experiments in: priority first (higher first; given at creation
 * or set later, recorded as ExperimentPrioritized), then creation order; paused, completed and
 * failed experiments are never claimed, nor one leased to another worker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimNext } from '../../src/pool/worker-pool.js';
import { createMemoryRuntime } from '../../src/runtime.js';

const request = (name: string, priority?: number) => ({
  name,
  searchSpace: { preset: 'nas-bench-macro' },
  schedule: { stepsPerEpoch: 5, warmupSteps: 5, treeBuildingSteps: 5, mctSteps: 5 },
  dataset: { kind: 'synthetic' },
  ...(priority === undefined ? {} : { priority }),
});

describe('claim order of the worker pool', () => {
  it('given experiments with and without priorities, when workers claim one after another, then the highest priority comes first and equal priorities go oldest first', async () => {
    const { service } = createMemoryRuntime();
    const oldest = (await service.create(request('oldest'))).id;
    const urgent = (await service.create(request('urgent', 5))).id;
    const middle = (await service.create(request('middle'))).id;
    const low = (await service.create(request('low', -1))).id;
    const raised = (await service.create(request('raised later'))).id;
    await service.prioritize(raised, 2, 'test');
    const claimed: string[] = [];
    for (let worker = 0; worker < 6; worker++) {
      const { claim } = await claimNext(service, `worker-${worker}`, 60_000);
      if (claim) claimed.push(claim.experimentId);
    }
    assert.deepEqual(claimed, [urgent, raised, oldest, middle, low]);
    const status = (await service.projections.current(urgent)).status;
    assert.equal(status.priority, 5, 'the priority given at creation is recorded');
  });

  it('given paused, completed and leased experiments, when a worker claims, then it skips them and counts the leased one as worth waiting for', async () => {
    const { service } = createMemoryRuntime();
    const paused = (await service.create(request('paused', 9))).id;
    await service.pause(paused, 'test');
    const completed = (await service.create(request('completed', 9))).id;
    await service.complete(completed, 0);
    const leased = (await service.create(request('leased', 9))).id;
    await service.acquireLease(leased, 'someone-else', 60_000);
    const free = (await service.create(request('free'))).id;
    const first = await claimNext(service, 'me', 60_000);
    assert.equal(first.claim?.experimentId, free);
    const second = await claimNext(service, 'me-too', 60_000);
    assert.deepEqual({ claim: second.claim, leasedElsewhere: second.leasedElsewhere }, { claim: null, leasedElsewhere: 2 });
  });

  it('given a priority out of range, when the experiment is created, then it is refused naming the field and nothing is written', async () => {
    const { service } = createMemoryRuntime();
    await assert.rejects(service.create(request('bad', 1.5)), (error: Error & { field?: string }) => error.field === 'priority');
    assert.deepEqual(await service.list(), []);
  });
});
