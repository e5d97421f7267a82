/**
 * Evolutionary search baseline, SPOS-style (Guo et al. 2020, as the MCT-NAS paper compares):
 *   population 50, 20 generations, 25 mutations (each layer re-drawn with p = 0.1), 25
 *   crossovers (each layer from either parent), parents drawn from the top-k (10) of every
 *   candidate evaluated so far; the population is topped up with random candidates.
 * Budget scaling (default): with K below twice the population the search would be its random
 * initial population only, so the population is scaled to the budget: population
 * P = min(50, ceil(K / 2)), mutations = crossovers = round(P / 2), top-k parents =
 * max(1, round(P / 5)) (SPOS's ratios 25/50 and 10/50); at K >= 100 these are SPOS's numbers.
 * `scaleToBudget: false` keeps the fixed SPOS settings.
 * Legal candidates are inside the FLOPs window and never seen before (every generated path is
 * marked seen, legal or not, as SPOS's vis_dict does). The search stops after K full
 * evaluations (the same budget as the other strategies) or after the last generation; with
 * K <= population it is therefore the random initial population only. `exhausted` in the
 * outcome means fewer than K were evaluated (window exhausted or generations over).
 *
 * Randomness: generation g uses rngFor(seed, g, purpose) for purposes
 * 'search:evolution:mutation', ':crossover' and ':random'.
 */
import { rngFor, type Rng } from '../random/counter-rng.js';
import { inWindow } from '../tree/flops-window.js';
import { sampleUniformInWindow } from '../tree/sampling.js';
import { assertWindowReachable, type SpaceModel } from '../tree/space-model.js';
import { rankCandidates, type CandidateResult, type SearchOutcome } from './outcome.js';
import { SearchSession, type RunOptions } from './session.js';
import type { SearchSettings } from './settings.js';
import type { SearchStrategy } from './strategy.js';

export interface EvolutionOptions {
  readonly population: number;
  readonly generations: number;
  readonly mutations: number;
  readonly mutationProbability: number;
  readonly crossovers: number;
  /** parents are drawn from this many best candidates so far */
  readonly parents: number;
}

/** The evolution settings for budget K (see the file comment). */
export function evolutionForBudget(k: number, base: EvolutionOptions = DEFAULT_EVOLUTION): EvolutionOptions {
  const population = Math.max(1, Math.min(base.population, Math.ceil(k / 2)));
  if (population === base.population) return base;
  const half = Math.round(population / 2);
  return { ...base, population, mutations: half, crossovers: half, parents: Math.max(1, Math.round((population * base.parents) / base.population)) };
}

export const DEFAULT_EVOLUTION: EvolutionOptions = Object.freeze({
  population: 50,
  generations: 20,
  mutations: 25,
  mutationProbability: 0.1,
  crossovers: 25,
  parents: 10,
});

export const EVOLUTION_PURPOSE = {
  mutation: 'search:evolution:mutation',
  crossover: 'search:evolution:crossover',
  random: 'search:evolution:random',
} as const;

/** Generation attempts per wanted child (SPOS uses 10x). */
const ATTEMPTS_PER_CHILD = 10;
/** Random draws per wanted random candidate before giving up (window exhausted). */
const RANDOM_ATTEMPTS = 1000;

export async function runEvolutionarySearch(
  space: SpaceModel,
  settings: SearchSettings,
  options: RunOptions,
  evolution: Partial<EvolutionOptions> & { readonly scaleToBudget?: boolean } = {},
): Promise<SearchOutcome> {
  const { scaleToBudget = true, ...fixed } = evolution;
  const base = { ...DEFAULT_EVOLUTION, ...fixed };
  const evo = scaleToBudget ? { ...evolutionForBudget(settings.candidates, base), ...fixed } : base;
  for (const k of ['population', 'generations', 'parents'] as const) {
    if (!Number.isInteger(evo[k]) || evo[k] < 1) throw new RangeError(`${k} must be a positive integer`);
  }
  for (const k of ['mutations', 'crossovers'] as const) {
    if (!Number.isInteger(evo[k]) || evo[k] < 0) throw new RangeError(`${k} must be a non-negative integer`);
  }
  if (!(evo.mutationProbability >= 0 && evo.mutationProbability <= 1)) throw new RangeError('mutationProbability must be in [0, 1]');

  assertWindowReachable(space, settings.flopsWindow);
  const session = new SearchSession(settings, options);
  await session.start('evolutionary');
  const seen = new Set<string>();
  const window = settings.flopsWindow;
  const legal = (arch: number[]): boolean => {
    const key = arch.join('.');
    if (seen.has(key)) return false;
    seen.add(key);
    return inWindow(space.flops(arch), window);
  };

  const randomFill = (population: number[][], generation: number): boolean => {
    const rng = rngFor(settings.seed, generation, EVOLUTION_PURPOSE.random);
    while (population.length < evo.population) {
      let found = false;
      for (let attempt = 0; attempt < RANDOM_ATTEMPTS && !found; attempt++) {
        const arch = sampleUniformInWindow(space, rng, window, settings.hyperparameters.maxRedraws).architecture;
        if (legal(arch)) {
          population.push(arch);
          found = true;
        }
      }
      if (!found) return false;
    }
    return true;
  };

  let population: number[][] = [];
  randomFill(population, 0);
  let parents: CandidateResult[] = [];
  outer: for (let generation = 0; generation < evo.generations; generation++) {
    for (const arch of population) {
      if (session.evaluated.length >= settings.candidates) break outer;
      session.checkAborted();
      await session.evaluateCandidate(arch, space.flops(arch), space.params(arch));
    }
    if (generation === evo.generations - 1 || session.evaluated.length >= settings.candidates) break;
    parents = rankCandidates(session.evaluated).slice(0, evo.parents);
    const next = generation + 1;
    const mutated = breed(evo.mutations, rngFor(settings.seed, next, EVOLUTION_PURPOSE.mutation), (rng) => {
      const p = parents[rng.nextInt(parents.length)]!.architecture;
      return p.map((op, l) => (rng.next() < evo.mutationProbability ? rng.nextInt(space.opCounts[l]!) : op));
    }, legal);
    const crossed = breed(evo.crossovers, rngFor(settings.seed, next, EVOLUTION_PURPOSE.crossover), (rng) => {
      const a = parents[rng.nextInt(parents.length)]!.architecture;
      const b = parents[rng.nextInt(parents.length)]!.architecture;
      return a.map((op, l) => (rng.next() < 0.5 ? op : b[l]!));
    }, legal);
    population = [...mutated, ...crossed].slice(0, evo.population);
    randomFill(population, next);
    if (population.length === 0) break; // nothing legal is left in the window
  }
  // Fewer than K: the window ran out of unseen paths, or the generations ended first.
  return session.complete('evolutionary', session.evaluated.length < settings.candidates);
}

export const evolutionarySearch = {
  name: 'evolutionary',
  run: ({ space }, settings, options) => runEvolutionarySearch(space, settings, options),
} as const satisfies SearchStrategy;

function breed(count: number, rng: Rng, make: (rng: Rng) => number[], legal: (arch: number[]) => boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < count * ATTEMPTS_PER_CHILD && out.length < count; i++) {
    const child = make(rng);
    if (legal(child)) out.push(child);
  }
  return out;
}
