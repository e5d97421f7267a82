/**
 * Random search baseline: K distinct architectures drawn uniformly inside the FLOPs window
 * (rejection sampling with the training sampler's fallback), each fully evaluated once.
 * Candidate `c` draws from rngFor(seed, c, 'search:random'); a duplicate is redrawn from the
 * same stream. Distinctness is by exact op path (the same notion as the hierarchical search's
 * removed leaves). Emits SearchStarted, CandidateEvaluated x K, SearchCompleted.
 */
import { rngFor } from '../random/counter-rng.js';
import { sampleUniformInWindow } from '../tree/sampling.js';
import { assertWindowReachable, type SpaceModel } from '../tree/space-model.js';
import type { SearchOutcome } from './outcome.js';
import { SearchSession, type RunOptions } from './session.js';
import type { SearchSettings } from './settings.js';
import type { SearchStrategy } from './strategy.js';

export const RANDOM_SEARCH_PURPOSE = 'search:random';

/** Draws per candidate before the window is declared exhausted (all its paths already seen). */
export const MAX_DUPLICATE_DRAWS = 1000;

export async function runRandomSearch(space: SpaceModel, settings: SearchSettings, options: RunOptions): Promise<SearchOutcome> {
  assertWindowReachable(space, settings.flopsWindow);
  const session = new SearchSession(settings, options);
  await session.start('random');
  const seen = new Set<string>();
  let exhausted = false;
  while (session.evaluated.length < settings.candidates) {
    session.checkAborted();
    const c = session.evaluated.length;
    const rng = rngFor(settings.seed, c, RANDOM_SEARCH_PURPOSE);
    let found: { architecture: number[]; flops: number } | null = null;
    for (let attempt = 0; attempt < MAX_DUPLICATE_DRAWS; attempt++) {
      const drawn = sampleUniformInWindow(space, rng, settings.flopsWindow, settings.hyperparameters.maxRedraws);
      const key = drawn.architecture.join('.');
      if (!seen.has(key)) {
        seen.add(key);
        found = drawn;
        break;
      }
    }
    if (!found) {
      exhausted = true;
      break;
    }
    await session.evaluateCandidate(found.architecture, found.flops, space.params(found.architecture));
  }
  return session.complete('random', exhausted);
}

export const randomSearch = {
  name: 'random',
  run: ({ space }, settings, options) => runRandomSearch(space, settings, options),
} as const satisfies SearchStrategy;
