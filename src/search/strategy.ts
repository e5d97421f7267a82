/**
 * The contract of a search strategy: given the trained tree and the space, make decisions one
 * at a time through a `SearchSession` and return the outcome. The registry (registry.ts) holds
 * one per strategy name.
 */
import type { SpaceModel } from '../tree/space-model.js';
import type { TreeState } from '../tree/state.js';
import type { StrategyName } from './config.js';
import type { SearchOutcome } from './outcome.js';
import type { RunOptions } from './session.js';
import type { SearchSettings } from './settings.js';

export interface StrategyInput {
  /** the tree at the end of training; for a resume, as it was before the search's SearchStarted */
  readonly state: TreeState;
  readonly space: SpaceModel;
}

export interface SearchStrategy {
  readonly name: StrategyName;
  run(input: StrategyInput, settings: SearchSettings, options: RunOptions): Promise<SearchOutcome>;
}
