import type { Logger } from 'pino';
import type { SearchLauncher, SearchStartOptions } from '../api/search/search-launcher.js';
import type { AppConfig } from '../config.js';
import { ExperimentStateError } from '../experiments/errors.js';
import type { ExperimentService } from '../experiments/experiment-service.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { requireTree } from '../tree/state.js';

/**
 * Starts searches requested over HTTP (POST /experiments/:id/search) on this process's
 * TensorFlow.js trainer: the experiment's final checkpoint is loaded and the search runs in
 * the background, recorded in the stream like any other.
 */
export class SupernetSearchLauncher implements SearchLauncher {
  private readonly running = new Set<string>();

  constructor(
    private readonly service: ExperimentService,
    private readonly config: AppConfig,
    private readonly logger: Logger,
  ) {}

  async start(experimentId: string, options: SearchStartOptions): Promise<{ searchId: string }> {
    if (this.running.has(experimentId)) throw new ExperimentStateError(`a search of experiment '${experimentId}' is already running here`);
    const view = await this.service.projections.current(experimentId);
    const { config } = requireTree(view.tree);
    if (view.tree.lastRewardedStep !== totalTrainingSteps(config.schedule) - 1) {
      throw new ExperimentStateError(`experiment '${experimentId}' is still training: a search starts once training is over`);
    }
    // The search evaluates the supernet of the last step: without its checkpoint it could only
    // fail in the background (in the log, after a 202); refuse it here instead.
    if (view.status.retainedCheckpoints.at(-1)?.step !== view.tree.lastRewardedStep) {
      throw new ExperimentStateError(`experiment '${experimentId}' has no checkpoint of its last trained step ${view.tree.lastRewardedStep}: a search here needs the trained supernet (train it to the end with checkpoints, or run the search over ask/tell)`);
    }
    const interrupted = view.tree.search && !view.tree.search.completed ? view.tree.search.searchId : null;
    const searchId = interrupted ?? `search-${view.status.searches.length + 1}`;
    this.running.add(experimentId);
    // The training stack (TensorFlow.js) loads with the first search, not with the service.
    import('./search-job.js')
      .then(({ searchJob }) => searchJob(this.service, this.config, experimentId, { ...options, searchId }))
      .catch((error: unknown) => this.logger.error({ experimentId, searchId, error: (error as Error).message }, 'search failed'))
      .finally(() => this.running.delete(experimentId));
    return { searchId };
  }
}
