/** Every search strategy, by name: the one place a name becomes a strategy. */
import type { StrategyName } from './config.js';
import { evolutionarySearch } from './evolutionary.js';
import { hierarchicalSearch } from './hierarchical.js';
import { randomSearch } from './random-search.js';
import type { SearchStrategy } from './strategy.js';

const strategies: { readonly [N in StrategyName]: SearchStrategy & { readonly name: N } } = {
  hierarchical: hierarchicalSearch,
  random: randomSearch,
  evolutionary: evolutionarySearch,
};

export function searchStrategy(name: StrategyName): SearchStrategy {
  return strategies[name];
}
