/**
 * What-if replay: recompute the tree of a recorded experiment under other hyperparameters
 * (beta, gamma, C1, C2, tau, n_thrd, maxRedraws) and/or another schedule, and report how the
 * tree and the chosen architecture differ. Pure: it reads an event array and never writes.
 * Training is replayed by training-replay.ts, the search by search-replay.ts, and the trees
 * compared by tree-diff.ts.
 */
import { isTreeEvent, type ProjectableEvent, type TreeEvent } from '../tree/events.js';
import type { Hyperparameters } from '../tree/hyperparameters.js';
import type { Schedule } from '../tree/schedule.js';
import type { WhatIfOptions, WhatIfReport } from './report.js';
import { replaySearch } from './search-replay.js';
import { diffTrees } from './tree-diff.js';
import { replayTraining } from './training-replay.js';

export async function whatIf(events: readonly ProjectableEvent[], options: WhatIfOptions = {}): Promise<WhatIfReport> {
  const history: TreeEvent[] = events.filter(isTreeEvent);
  const created = history.find((e) => e.type === 'ExperimentCreated');
  if (created?.type !== 'ExperimentCreated') throw new RangeError('the history has no ExperimentCreated event');
  const recorded = created.data;
  const hyperparameters: Hyperparameters = { ...recorded.hyperparameters, ...options.hyperparameters };
  const schedule: Schedule = options.schedule ?? recorded.schedule;
  const samplingChanged = options.hyperparameters?.c1 !== undefined || options.hyperparameters?.tau !== undefined || options.schedule !== undefined;

  const firstSearch = history.findIndex((e) => e.type === 'SearchStarted');
  const training = replayTraining(firstSearch < 0 ? history : history.slice(0, firstSearch), recorded, { hyperparameters, schedule, samplingChanged }, options.skipPolicyAnalysis ?? false);
  const notes = [...training.notes];

  let search: WhatIfReport['search'] = null;
  if (firstSearch >= 0) {
    if (!options.space) notes.push('no search space given: the search was not rerun');
    else search = await replaySearch(history, training.alternative, { space: options.space, hyperparameters, searchId: options.searchId, diff: options }, notes);
  }

  return {
    position: events[events.length - 1]?.position ?? 0,
    events: events.length,
    hyperparameters: { recorded: recorded.hyperparameters, alternative: hyperparameters },
    schedule: { recorded: recorded.schedule, alternative: schedule },
    training: {
      rewardedSteps: training.rewardedSteps,
      ignoredSteps: training.ignoredSteps,
      treeUpdates: training.treeUpdates,
      tree: diffTrees(training.recorded, training.alternative, options),
      policy: training.policy,
    },
    search,
    notes,
  };
}
