/**
 * How the API starts a search: a provider under SEARCH_LAUNCHER, supplied by whatever attaches
 * trainers to this service (a search needs a trainer to evaluate candidates on the supernet).
 * Without one, POST /experiments/:id/search answers 409 (no trainer attached).
 */
import type { StrategyName } from '../../search/config.js';

export const SEARCH_LAUNCHER = Symbol('SearchLauncher');

export interface SearchStartOptions {
  readonly strategy?: StrategyName;
  /** distinct candidates to evaluate fully (K); default: the experiment's setting */
  readonly candidates?: number;
}

export interface SearchLauncher {
  /** Starts (or resumes) a search in the background; resolves once it is accepted. */
  start(experimentId: string, options: SearchStartOptions): Promise<{ searchId: string }>;
}
