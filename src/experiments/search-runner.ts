/**
 * Runs a search strategy on an experiment whose training is over and records every decision
 * in the experiment's stream: the edge between the pure strategies of this folder and the
 * event store, shared by the tabular oracle and the real trainer.
 *
 *  - Appends PhaseChanged to 'search' once (idempotency key `phase:search`).
 *  - A new search gets the id `search-<n>` (n - 1 searches started before it). The strategy
 *    hands over one event at a time and waits until it is stored before deciding anything
 *    else; each is appended with the key `search:<searchId>:<index>` (its index within the
 *    search, SearchStarted = 0) and the lease holder's worker id, so a retried append after an
 *    ambiguous commit is a no-op and a second worker running the same search cannot fork it.
 *  - Resume: a search with no SearchCompleted is resumed, never restarted. Its stored events
 *    go to the strategy as `recorded` (for the hierarchical search, with the tree as of just
 *    before its SearchStarted); the strategy replays them, checking each against its own
 *    decision and answering evaluator questions from them, then continues live. Naming a
 *    completed search replays it and returns its outcome without appending anything.
 *
 * The lease is checked once, at the start (against the wall clock); keeping it alive during a
 * long search is the caller's job, as during training.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { EventData } from '../events/catalog.js';
import type { StoredEvent } from '../events/stored-event.js';
import { ExperimentStateError, LeaseConflictError } from './errors.js';
import type { StreamStore } from '../events/stream-store.js';
import type { ExperimentService } from './experiment-service.js';
import { activeLease } from './experiment-status.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { requireTree, type TreeState } from '../tree/state.js';
import { searchConfigOf, type StrategyName } from '../search/config.js';
import type { SearchScope, Shortlist } from '../tree/events.js';
import type { CandidateEvaluator } from '../search/evaluator.js';
import type { SearchOutcome } from '../search/outcome.js';
import { searchStrategy } from '../search/registry.js';
import type { RunOptions, SearchEvent } from '../search/session.js';
import { searchSettings, type SearchSettings } from '../search/settings.js';

export interface SearchRunOptions {
  /** the lease the caller holds on the experiment */
  readonly leaseId: string;
  readonly evaluator: CandidateEvaluator;
  /** default: the experiment's search strategy; a resumed search keeps its own */
  readonly strategy?: StrategyName;
  /** K, distinct candidates fully evaluated; default: the experiment's; a resumed search keeps its own */
  readonly candidates?: number;
  /** the search to resume or replay; default: the interrupted search if any, else a new one */
  readonly searchId?: string;
  /** which tree nodes the hierarchical search may use; default: the experiment's ('trained') */
  readonly scope?: SearchScope;
  /** evaluations per validation batch; default: the experiment's (1000) */
  readonly updateDataFreq?: number;
  /** the hierarchical search's shortlist option; default: the experiment's (off) */
  readonly shortlist?: Shortlist | null;
  readonly signal?: AbortSignal;
}

export async function runSearchOnExperiment(
  service: ExperimentService<StreamStore>,
  experimentId: string,
  options: SearchRunOptions,
): Promise<SearchOutcome> {
  const view = await service.projections.current(experimentId);
  const lease = activeLease(view.status, new Date());
  if (!lease || lease.leaseId !== options.leaseId) {
    throw new LeaseConflictError(`lease '${options.leaseId}' is not the active lease of experiment '${experimentId}'`);
  }
  const { config } = requireTree(view.tree);
  const trainingSteps = totalTrainingSteps(config.schedule);
  if (view.tree.lastRewardedStep !== trainingSteps - 1) {
    throw new ExperimentStateError(`experiment '${experimentId}' has rewards up to step ${view.tree.lastRewardedStep} of ${trainingSteps}: the search starts once training is over`);
  }
  const current = view.tree.search;
  const interrupted = current && !current.completed ? current.searchId : null;
  const searchId = options.searchId ?? interrupted ?? `search-${view.status.searches.length + 1}`;
  const known = view.status.searches.includes(searchId);
  if (!known && interrupted) {
    throw new ExperimentStateError(`search '${interrupted}' of experiment '${experimentId}' was interrupted: resume it before starting another`);
  }

  let strategy: StrategyName;
  let settings: SearchSettings;
  let state: TreeState;
  let recorded: StoredEvent[] = [];
  if (known) {
    const stored = await storedSearch(service, experimentId, searchId);
    const started = stored.started;
    strategy = started.strategy;
    for (const [name, asked, kept] of [['strategy', options.strategy, started.strategy], ['candidates', options.candidates, started.candidates]] as const) {
      if (asked !== undefined && asked !== kept) throw new ExperimentStateError(`search '${searchId}' runs with ${name} ${kept}, not ${asked}`);
    }
    state = (await service.projections.at(experimentId, stored.position - 1)).tree;
    settings = searchSettings(state, searchId, {
      candidates: started.candidates,
      topK: started.topK,
      flopsWindow: started.flopsWindow,
      referenceLoss: started.referenceLoss,
      scope: started.scope,
      updateDataFreq: started.updateDataFreq,
      shortlist: started.shortlist,
    });
    recorded = stored.events;
  } else {
    strategy = options.strategy ?? searchConfigOf(config.experiment).strategy;
    state = view.tree;
    settings = searchSettings(state, searchId, { candidates: options.candidates, scope: options.scope, updateDataFreq: options.updateDataFreq, shortlist: options.shortlist });
  }

  const metadata = { workerId: lease.workerId };
  if (view.tree.phase !== 'search') {
    await service.append(experimentId, [
      { type: 'PhaseChanged', data: { step: trainingSteps, from: view.tree.phase, to: 'search' }, metadata: { ...metadata, step: trainingSteps }, idempotencyKey: 'phase:search' },
    ]);
  }
  let index = recorded.length;
  const run: RunOptions = {
    evaluator: options.evaluator,
    recorded: recorded.map((e) => ({ type: e.type, data: e.data })),
    signal: options.signal,
    emit: async (event: SearchEvent) => {
      await service.append(experimentId, [{ type: event.type, data: event.data, metadata, idempotencyKey: `search:${searchId}:${index}` }]);
      index += 1;
      // PGlite settles its promises without going through the event loop: let timers
      // (the caller's heartbeats) and signals run between decisions.
      await yieldToEventLoop();
    },
  };
  return searchStrategy(strategy).run({ state, space: service.space(view) }, settings, run);
}

/** The stored events of search `searchId` (by their keys, in order) and where it started. */
async function storedSearch(
  service: ExperimentService<StreamStore>,
  experimentId: string,
  searchId: string,
): Promise<{ started: EventData<'SearchStarted'>; position: number; events: StoredEvent[] }> {
  const starts = await service.store.readStream(experimentId, { types: ['SearchStarted'] });
  const start = starts.find((e) => e.type === 'SearchStarted' && e.data.searchId === searchId);
  if (!start || start.type !== 'SearchStarted') throw new ExperimentStateError(`experiment '${experimentId}' has no search '${searchId}'`);
  const prefix = `search:${searchId}:`;
  const events = (await service.store.readStream(experimentId, { fromVersion: start.streamVersion })).filter((e) => e.idempotencyKey?.startsWith(prefix));
  events.forEach((e, i) => {
    if (e.idempotencyKey !== `${prefix}${i}`) {
      throw new ExperimentStateError(`search '${searchId}' of experiment '${experimentId}': stored event ${i} has key '${e.idempotencyKey}', expected '${prefix}${i}'`);
    }
  });
  return { started: start.data, position: start.position, events };
}
