/** What a what-if analysis reports (the answer of `POST /experiments/:id/replay`). */
import type { Hyperparameters } from '../tree/hyperparameters.js';
import type { Schedule } from '../tree/schedule.js';
import type { SpaceModel } from '../tree/space-model.js';

export interface TreeDiffOptions {
  /** how many node differences to list (largest first); default 20 */
  readonly nodeDiffLimit?: number;
  /** how many top leaves to compare; default 10 */
  readonly topLeaves?: number;
}

export interface WhatIfOptions extends TreeDiffOptions {
  readonly hyperparameters?: Partial<Hyperparameters>;
  readonly schedule?: Schedule;
  /** needed to rerun the search (FLOPs window checks, params); without it the search part is skipped */
  readonly space?: SpaceModel;
  /** recorded search to compare with (default: the last hierarchical search in the history) */
  readonly searchId?: string;
  /** skip the training policy analysis (it costs one tree descent per MCT step) */
  readonly skipPolicyAnalysis?: boolean;
}

export interface NodeDiff {
  readonly path: string;
  readonly recorded: { n: number; s: number; qbar: number; removed: boolean } | null;
  readonly alternative: { n: number; s: number; qbar: number; removed: boolean } | null;
  readonly dn: number;
  readonly dqbar: number;
}

export interface LeafSummary {
  readonly architecture: number[];
  readonly n: number;
  readonly qbar: number;
}

export interface TreeDiff {
  readonly identical: boolean;
  readonly nodes: { recorded: number; alternative: number; onlyRecorded: number; onlyAlternative: number; changed: number };
  readonly maxAbsVisitDiff: number;
  readonly maxAbsQbarDiff: number;
  /** the largest differences, by |dQbar| then |dn| */
  readonly largest: NodeDiff[];
  readonly movingAverageLoss: { recorded: number; alternative: number };
  readonly g: { recorded: number[][]; alternative: number[][]; maxAbsDiff: number };
  readonly topLeaves: { recorded: LeafSummary[]; alternative: LeafSummary[]; common: number };
}

export interface PolicyAnalysis {
  /** steps that are MCT sampling under the alternative schedule and have a recorded sample */
  readonly steps: number;
  /** mean over those steps of log P_alt(recorded path), each layer's probability floored at 1e-300 */
  readonly meanLogProbabilityAlternative: number | null;
  /** the same for the distribution the recorded path was actually drawn from (event probabilities) */
  readonly meanLogProbabilityRecorded: number | null;
  /** steps where the alternative policy's most likely path is not the recorded path */
  readonly mostLikelyPathDiffers: number;
}

export interface UnavailableEvaluation {
  readonly kind: 'validation-batch' | 'full-validation';
  readonly architecture: number[];
  readonly index: number;
}

export interface TrainingWhatIf {
  readonly rewardedSteps: number;
  /** recorded rewards ignored because the alternative schedule ends before their step */
  readonly ignoredSteps: number;
  readonly treeUpdates: { recorded: number; alternative: number };
  readonly tree: TreeDiff;
  readonly policy: PolicyAnalysis | null;
}

export interface SearchWhatIf {
  readonly searchId: string;
  readonly recorded: {
    readonly best: { architecture: number[]; top1: number } | null;
    readonly candidates: number[][];
    readonly validationBatchEvaluations: number;
  };
  readonly alternative: {
    /** 'completed': ran to the end; 'unavailable': stopped at a validation batch never recorded */
    readonly status: 'completed' | 'unavailable';
    readonly best: { architecture: number[]; top1: number } | null;
    /** true when every candidate's accuracy was available */
    readonly bestIsCertain: boolean;
    readonly candidates: number[][];
    readonly validationBatchEvaluations: number;
    readonly unavailable: UnavailableEvaluation[];
  };
  readonly sameChoice: boolean | null;
  readonly sameCandidates: boolean;
  /** tree after the search, recorded vs alternative (null when the rerun stopped early) */
  readonly tree: TreeDiff | null;
}

export interface WhatIfReport {
  readonly position: number;
  readonly events: number;
  readonly hyperparameters: { recorded: Hyperparameters; alternative: Hyperparameters };
  readonly schedule: { recorded: Schedule; alternative: Schedule };
  readonly training: TrainingWhatIf;
  readonly search: SearchWhatIf | null;
  readonly notes: string[];
}
