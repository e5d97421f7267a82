/**
 * The training half of a what-if: the recorded runs' (step, architecture, loss) triples replayed
 * through the trainer's own reward decision (`decideReward`) under the alternative settings.
 * The alternative schedule decides which steps update the tree, beta the moving average, gamma
 * the G table. The sampled architectures are the recorded ones: an alternative sampling policy
 * (C1, C2, tau, another MCT start) would have trained other paths whose losses do not exist, so
 * instead of inventing them the replay measures how the alternative policy judges the recorded
 * paths: at every step that is MCT sampling under the alternative schedule, the probability it
 * assigns to the recorded path and whether its most likely path differs.
 */
import type { TreeEvent, TreeEventData } from '../tree/events.js';
import { fold, TreeProjector } from '../tree/evolve.js';
import type { Hyperparameters } from '../tree/hyperparameters.js';
import { trainingChildScores } from '../tree/policy.js';
import { decideReward } from '../tree/reward.js';
import { mctPathProbabilities, phaseChangeAt } from '../tree/sampling.js';
import { trainingPhaseAt, totalTrainingSteps, type Schedule } from '../tree/schedule.js';
import type { TreeState } from '../tree/state.js';
import { pathKey, type TreeStore } from '../tree/store.js';
import type { PolicyAnalysis } from './report.js';

export interface TrainingReplay {
  /** the tree the recorded training built */
  readonly recorded: TreeState;
  /** the tree the same losses build under the alternative settings */
  readonly alternative: TreeState;
  readonly rewardedSteps: number;
  readonly ignoredSteps: number;
  readonly treeUpdates: { recorded: number; alternative: number };
  readonly policy: PolicyAnalysis | null;
  readonly notes: string[];
}

/** Replays `training` (the events before the first search) under `hyperparameters` and `schedule`. */
export function replayTraining(
  training: readonly TreeEvent[],
  created: TreeEventData<'ExperimentCreated'>,
  alternative: { readonly hyperparameters: Hyperparameters; readonly schedule: Schedule; readonly samplingChanged: boolean },
  skipPolicyAnalysis: boolean,
): TrainingReplay {
  const { hyperparameters: altHp, schedule: altSchedule } = alternative;
  const notes: string[] = [];
  const alt = new TreeProjector();
  alt.apply({ type: 'ExperimentCreated', data: { ...created, hyperparameters: altHp, schedule: altSchedule } });
  const altEnd = totalTrainingSteps(altSchedule);
  let rewardedSteps = 0;
  let ignoredSteps = 0;
  let recordedUpdates = 0;
  let altUpdates = 0;
  let policySteps = 0;
  let logAlt = 0;
  let logRec = 0;
  let differs = 0;
  for (const e of training) {
    if (e.type === 'VisitCountsUpdated' && e.data.source === 'training') recordedUpdates++;
    if (e.type === 'ArchitectureSampled') {
      const step = e.data.step;
      if (step >= altEnd) continue;
      const change = phaseChangeAt(alt.view(), step);
      if (change) alt.apply({ type: 'PhaseChanged', data: change });
      if (!skipPolicyAnalysis && trainingPhaseAt(altSchedule, step) === 'mct-sampling' && alt.view().lastRewardedStep === step - 1) {
        const tree = alt.view().tree!;
        const arch = e.data.architecture;
        const { probabilities } = mctPathProbabilities(tree, arch, altHp);
        for (let l = 0; l < arch.length; l++) {
          logAlt += Math.log(Math.max(probabilities[l]![arch[l]!]!, 1e-300));
          logRec += Math.log(Math.max(e.data.chosenProbabilities[l] ?? 0, 1e-300));
        }
        if (pathKey(mostLikelyPath(tree, altHp)) !== pathKey(arch)) differs++;
        policySteps++;
      }
      alt.apply({ type: e.type, data: e.data });
    } else if (e.type === 'RewardRecorded') {
      rewardedSteps++;
      const step = e.data.step;
      if (step >= altEnd) {
        ignoredSteps++;
        continue;
      }
      const change = phaseChangeAt(alt.view(), step);
      if (change) alt.apply({ type: 'PhaseChanged', data: change });
      const decision = decideReward(alt.view(), step, e.data.architecture, e.data.loss);
      for (const d of decision.events) alt.apply(d);
      if (decision.visits) altUpdates++;
    }
  }
  const recorded = fold(training);
  if (ignoredSteps > 0) notes.push(`${ignoredSteps} recorded rewards lie past the end of the alternative schedule and were ignored`);
  const recordedTrainingSteps = recorded.lastRewardedStep + 1;
  if (altEnd > recordedTrainingSteps) {
    notes.push(`the alternative schedule has ${altEnd} training steps, the record only ${recordedTrainingSteps}: the missing steps were never trained`);
  }
  if (!skipPolicyAnalysis && alternative.samplingChanged) {
    notes.push('training used the recorded paths; the policy section shows how the alternative sampling policy judges them');
  }
  return {
    recorded,
    alternative: alt.state,
    rewardedSteps,
    ignoredSteps,
    treeUpdates: { recorded: recordedUpdates, alternative: altUpdates },
    policy: skipPolicyAnalysis
      ? null
      : {
          steps: policySteps,
          meanLogProbabilityAlternative: policySteps ? logAlt / policySteps : null,
          meanLogProbabilityRecorded: policySteps ? logRec / policySteps : null,
          mostLikelyPathDiffers: differs,
        },
    notes,
  };
}

/** The path taking the most probable child at every layer (ties: lowest op). */
function mostLikelyPath(tree: TreeStore, hp: Hyperparameters): number[] {
  const path: number[] = [];
  let id = 0;
  for (let l = 0; l < tree.numLayers; l++) {
    const scores = trainingChildScores(tree, id, l, hp);
    let best = 0;
    for (let op = 1; op < scores.length; op++) if (scores[op]!.probability > scores[best]!.probability) best = op;
    path.push(best);
    id = tree.child(id, best);
  }
  return path;
}
