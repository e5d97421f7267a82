import type { ExperimentService } from '../experiments/experiment-service.js';
import { SearchSpace } from '../search-space/search-space.js';
import { topLeaves, treeStats } from '../tree/queries.js';
import { requireTree } from '../tree/state.js';

/** Prints an experiment's status and a summary of its tree. */
export async function inspectExperiment(service: ExperimentService, experimentId: string, top: number): Promise<void> {
  await service.projections.read(experimentId, (view) => {
    const { config } = requireTree(view.tree);
    const space = SearchSpace.fromDefinition(config.experiment.searchSpace);
    const s = view.status;
    console.log(`${experimentId}  ${s.name}`);
    console.log(`  lifecycle ${s.lifecycle}, phase ${s.phase ?? '-'}, last rewarded step ${view.tree.lastRewardedStep}, stream version ${view.version}, position ${view.position}`);
    console.log(`  backend ${s.backend?.backend ?? '-'}, lease ${s.lease ? `${s.lease.workerId} until ${s.lease.expiresAt}` : 'none'}, checkpoints ${s.retainedCheckpoints.length} retained of ${s.checkpoints.length} saved${s.retainedCheckpoints.length ? ` (newest: step ${s.retainedCheckpoints.at(-1)!.step})` : ''}${s.checkpointFailure ? `, FAILING at step ${s.checkpointFailure.step} (${s.checkpointFailure.failure})` : ''}`);
    console.log(`  tree: ${JSON.stringify(treeStats(view.tree))}`);
    for (const leaf of topLeaves(view.tree, top).leaves) {
      console.log(`  ${space.encode(leaf.architecture)}  n=${leaf.n}  mean reward ${leaf.qbar.toFixed(5)}`);
    }
  });
}
