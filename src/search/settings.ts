/** The settings one search runs with: from the experiment and the trained tree, with overrides. */
import type { SearchScope, Shortlist } from '../tree/events.js';
import type { FlopsWindow } from '../tree/flops-window.js';
import type { Hyperparameters } from '../tree/hyperparameters.js';
import { requireTree, type TreeState } from '../tree/state.js';
import { searchConfigOf } from './config.js';

export interface SearchSettings {
  readonly searchId: string;
  readonly seed: number;
  /** K: distinct candidates fully evaluated */
  readonly candidates: number;
  readonly topK: number;
  /** the search's window (ExperimentCreated.search.flopsWindow, else the training window) */
  readonly flopsWindow: FlopsWindow | null;
  /** which tree nodes the hierarchical search may use */
  readonly scope: SearchScope;
  /** consecutive validation-batch evaluations sharing one batch */
  readonly updateDataFreq: number;
  /** the hierarchical search's shortlist option; null: off (the authors' search) */
  readonly shortlist: Shortlist | null;
  readonly hyperparameters: Hyperparameters;
  /** frozen Ltilde at the end of training (validation reward = referenceLoss / batch loss) */
  readonly referenceLoss: number;
}

/** Settings from the experiment (ExperimentCreated) and the tree's Ltilde, with overrides. */
export function searchSettings(
  state: TreeState,
  searchId: string,
  overrides: {
    readonly candidates?: number;
    readonly topK?: number;
    readonly flopsWindow?: FlopsWindow | null;
    readonly scope?: SearchScope;
    readonly updateDataFreq?: number;
    readonly shortlist?: Shortlist | null;
    readonly hyperparameters?: Partial<Hyperparameters>;
    readonly referenceLoss?: number;
    readonly seed?: number;
  } = {},
): SearchSettings {
  const { config } = requireTree(state);
  const search = searchConfigOf(config.experiment);
  const settings: SearchSettings = {
    searchId,
    seed: overrides.seed ?? config.seed,
    candidates: overrides.candidates ?? search.candidates,
    topK: overrides.topK ?? search.topK,
    flopsWindow: overrides.flopsWindow !== undefined ? overrides.flopsWindow : search.flopsWindow !== undefined ? search.flopsWindow : config.flopsWindow,
    scope: overrides.scope ?? search.scope,
    updateDataFreq: overrides.updateDataFreq ?? search.updateDataFreq,
    shortlist: overrides.shortlist !== undefined ? overrides.shortlist : (search.shortlist ?? null),
    hyperparameters: { ...config.hyperparameters, ...overrides.hyperparameters },
    referenceLoss: overrides.referenceLoss ?? state.movingAverageLoss,
  };
  checkSettings(settings);
  return settings;
}

export function checkSettings(s: SearchSettings): void {
  if (typeof s.searchId !== 'string' || s.searchId.length === 0) throw new RangeError('searchId must be a non-empty string');
  if (!Number.isInteger(s.candidates) || s.candidates < 1) throw new RangeError(`candidates must be a positive integer, got ${s.candidates}`);
  if (!Number.isInteger(s.topK) || s.topK < 1) throw new RangeError(`topK must be a positive integer, got ${s.topK}`);
  if (!Number.isInteger(s.updateDataFreq) || s.updateDataFreq < 1) throw new RangeError(`updateDataFreq must be a positive integer, got ${s.updateDataFreq}`);
  if (!Number.isFinite(s.referenceLoss) || s.referenceLoss < 0) throw new RangeError(`referenceLoss must be finite and >= 0, got ${s.referenceLoss}`);
}
