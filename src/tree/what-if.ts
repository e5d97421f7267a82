/**
 * What-if replay: recompute the tree of a recorded experiment under other hyperparameters
 * (beta, gamma, C1, C2, tau, n_thrd, maxRedraws) and/or another schedule, and report how the
 * tree and the chosen architecture differ. Pure: it reads an event array and never writes.
 *
 * Training. The recorded runs' (step, architecture, loss) triples are replayed through the
 * same reward decision the trainer uses (`decideReward`) under the alternative settings: the
 * alternative schedule decides which steps update the tree, beta the moving average, gamma the
 * G table. The sampled architectures are the recorded ones — an alternative sampling policy
 * (C1, C2, tau, another MCT start) would have trained other paths whose losses do not exist,
 * so instead of inventing them the report measures how the alternative policy judges the
 * recorded paths: at every step that is MCT sampling under the alternative schedule, the
 * probability it assigns to the recorded path and whether its most likely path differs.
 *
 * Search. The chosen recorded search (default: the last hierarchical one) is rerun from the
 * alternative end-of-training tree with the alternative n_thrd, C2, tau, gamma and reference
 * loss (the alternative Ltilde). Evaluations are served from the record: a validation-batch
 * loss recorded for an architecture is reused (the k-th request for an architecture gets its
 * k-th recorded loss, cycling), a full validation recorded for an architecture (by any search
 * in the history) is reused. A validation batch that was never recorded stops the rerun: it is
 * reported as unavailable along with what the rerun had done so far. A missing full
 * validation does not change which candidates the search proposes (hierarchical selection
 * never reads accuracies), so the rerun continues and lists the candidate as unavailable; the
 * alternative choice is then the best of the available candidates and flagged uncertain.
 */
import type { EventData, Hyperparameters, Schedule } from '../events/catalog.js';
import type { Architecture } from '../search-space/types.js';
import { runHierarchicalSearch } from '../search/hierarchical.js';
import type { CandidateEvaluator, FullValidationResult, SearchEvent } from '../search/strategy.js';
import { fold, TreeProjector, type ProjectableEvent } from './evolve.js';
import { trainingChildScores } from './policy.js';
import { topLeafIds } from './queries.js';
import { decideReward } from './reward.js';
import { mctPathProbabilities } from './sampling.js';
import { phaseChangeAt, trainingPhaseAt, totalTrainingSteps } from './schedule.js';
import type { SpaceModel } from './space-model.js';
import { meanReward, requireTree, type TreeState } from './state.js';
import { pathKey, type TreeStore } from './store.js';

export interface WhatIfOptions {
  readonly hyperparameters?: Partial<Hyperparameters>;
  readonly schedule?: Schedule;
  /** needed to rerun the search (FLOPs window checks, params); without it the search part is skipped */
  readonly space?: SpaceModel;
  /** recorded search to compare with (default: the last hierarchical search in the history) */
  readonly searchId?: string;
  /** how many node differences to list (largest first); default 20 */
  readonly nodeDiffLimit?: number;
  /** how many top leaves to compare; default 10 */
  readonly topLeaves?: number;
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
  readonly training: {
    readonly rewardedSteps: number;
    /** recorded rewards ignored because the alternative schedule ends before their step */
    readonly ignoredSteps: number;
    readonly treeUpdates: { recorded: number; alternative: number };
    readonly tree: TreeDiff;
    readonly policy: PolicyAnalysis | null;
  };
  readonly search: SearchWhatIf | null;
  readonly notes: string[];
}

class UnavailableError extends Error {
  constructor(readonly detail: UnavailableEvaluation) {
    super(`${detail.kind} of [${detail.architecture.join(',')}] was never recorded`);
  }
}

export function whatIf(events: readonly ProjectableEvent[], options: WhatIfOptions = {}): Promise<WhatIfReport> {
  return runWhatIf(events, options);
}

async function runWhatIf(events: readonly ProjectableEvent[], options: WhatIfOptions): Promise<WhatIfReport> {
  const createdIndex = events.findIndex((e) => e.type === 'ExperimentCreated');
  if (createdIndex < 0) throw new RangeError('the history has no ExperimentCreated event');
  const created = events[createdIndex]!.data as EventData<'ExperimentCreated'>;
  const altHp: Hyperparameters = { ...created.hyperparameters, ...options.hyperparameters };
  const altSchedule: Schedule = options.schedule ?? created.schedule;
  const altExperiment: EventData<'ExperimentCreated'> = { ...created, hyperparameters: altHp, schedule: altSchedule };
  const notes: string[] = [];

  const firstSearch = events.findIndex((e) => e.type === 'SearchStarted');
  const trainingEvents = firstSearch < 0 ? events : events.slice(0, firstSearch);
  const recordedTraining = fold(trainingEvents);

  // --- alternative training tree ------------------------------------------------------------
  const alt = new TreeProjector();
  alt.apply({ type: 'ExperimentCreated', data: altExperiment });
  const altEnd = totalTrainingSteps(altSchedule);
  let rewardedSteps = 0;
  let ignoredSteps = 0;
  let recordedUpdates = 0;
  let altUpdates = 0;
  let policySteps = 0;
  let logAlt = 0;
  let logRec = 0;
  let differs = 0;
  for (const e of trainingEvents) {
    if (e.type === 'VisitCountsUpdated' && e.data.source === 'training') recordedUpdates++;
    if (e.type === 'ArchitectureSampled') {
      const step = e.data.step;
      if (step >= altEnd) continue;
      const change = phaseChangeAt(alt.view(), step);
      if (change) alt.apply({ type: 'PhaseChanged', data: change });
      if (!options.skipPolicyAnalysis && trainingPhaseAt(altSchedule, step) === 'mct-sampling' && alt.view().lastRewardedStep === step - 1) {
        const tree = alt.view().tree!;
        const arch = e.data.architecture;
        const { probabilities } = mctPathProbabilities(tree, arch, altHp);
        for (let l = 0; l < arch.length; l++) {
          logAlt += Math.log(Math.max(probabilities[l]![arch[l]!]!, 1e-300));
          logRec += Math.log(Math.max(e.data.probabilities[l]?.[arch[l]!] ?? 0, 1e-300));
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
  if (ignoredSteps > 0) notes.push(`${ignoredSteps} recorded rewards lie past the end of the alternative schedule and were ignored`);
  const recordedTrainingSteps = recordedTraining.lastRewardedStep + 1;
  if (altEnd > recordedTrainingSteps) {
    notes.push(`the alternative schedule has ${altEnd} training steps, the record only ${recordedTrainingSteps}: the missing steps were never trained`);
  }
  if (!options.skipPolicyAnalysis && (options.hyperparameters?.c1 !== undefined || options.hyperparameters?.tau !== undefined || options.schedule)) {
    notes.push('training used the recorded paths; the policy section shows how the alternative sampling policy judges them');
  }
  const altTraining = alt.state;
  const trainingDiff = diffTrees(recordedTraining, altTraining, options);

  // --- search --------------------------------------------------------------------------------
  let search: SearchWhatIf | null = null;
  if (firstSearch >= 0) {
    if (!options.space) notes.push('no search space given: the search was not rerun');
    else search = await searchWhatIf(events, altTraining, altHp, options, notes);
  }

  const last = events[events.length - 1];
  return {
    position: last?.position ?? 0,
    events: events.length,
    hyperparameters: { recorded: created.hyperparameters, alternative: altHp },
    schedule: { recorded: created.schedule, alternative: altSchedule },
    training: {
      rewardedSteps,
      ignoredSteps,
      treeUpdates: { recorded: recordedUpdates, alternative: altUpdates },
      tree: trainingDiff,
      policy: options.skipPolicyAnalysis
        ? null
        : {
            steps: policySteps,
            meanLogProbabilityAlternative: policySteps ? logAlt / policySteps : null,
            meanLogProbabilityRecorded: policySteps ? logRec / policySteps : null,
            mostLikelyPathDiffers: differs,
          },
    },
    search,
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

async function searchWhatIf(
  events: readonly ProjectableEvent[],
  altTraining: TreeState,
  altHp: Hyperparameters,
  options: WhatIfOptions,
  notes: string[],
): Promise<SearchWhatIf | null> {
  const space = options.space!;
  // Pick the recorded search.
  let startIndex = -1;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type !== 'SearchStarted') continue;
    if (options.searchId ? e.data.searchId === options.searchId : e.data.strategy === 'hierarchical') {
      startIndex = i;
      break;
    }
  }
  if (startIndex < 0) {
    notes.push(options.searchId ? `no search '${options.searchId}' in the history` : 'no hierarchical search in the history');
    return null;
  }
  const started = events[startIndex]!.data as EventData<'SearchStarted'>;
  if (started.strategy !== 'hierarchical') {
    notes.push(`search '${started.searchId}' is ${started.strategy}: it does not read the tree, so the hyperparameters cannot change it`);
    return null;
  }
  // The recorded search's events: from its SearchStarted to the next SearchStarted.
  let endIndex = events.length;
  for (let i = startIndex + 1; i < events.length; i++) {
    if (events[i]!.type === 'SearchStarted') {
      endIndex = i;
      break;
    }
  }
  const searchEvents = events.slice(startIndex, endIndex);
  const recordedAfter = fold(events.slice(0, endIndex));
  if (startIndex !== events.findIndex((e) => e.type === 'SearchStarted')) {
    notes.push('the compared search was not the first one; the rerun starts from the end-of-training tree');
  }

  // Every evaluation recorded anywhere in the history, by architecture.
  const batchLosses = new Map<string, number[]>();
  const fullResults = new Map<string, FullValidationResult>();
  for (const e of events) {
    if (e.type === 'ValidationBatchEvaluated') {
      const key = pathKey(e.data.architecture);
      const list = batchLosses.get(key);
      if (list) list.push(e.data.loss);
      else batchLosses.set(key, [e.data.loss]);
    } else if (e.type === 'CandidateEvaluated') {
      const key = pathKey(e.data.architecture);
      if (!fullResults.has(key)) fullResults.set(key, { top1: e.data.top1, top5: e.data.top5, loss: e.data.loss });
    }
  }
  const requests = new Map<string, number>();
  const unavailable: UnavailableEvaluation[] = [];
  const unavailableCandidates = new Set<number>();
  const evaluator: CandidateEvaluator = {
    validationBatchLoss(architecture: Architecture, evaluation: number): number {
      const key = pathKey(architecture);
      const list = batchLosses.get(key);
      if (!list) throw new UnavailableError({ kind: 'validation-batch', architecture: [...architecture], index: evaluation });
      const k = requests.get(key) ?? 0;
      requests.set(key, k + 1);
      return list[k % list.length]!;
    },
    fullValidation(architecture: Architecture, candidate: number): FullValidationResult {
      const r = fullResults.get(pathKey(architecture));
      if (r) return r;
      unavailable.push({ kind: 'full-validation', architecture: [...architecture], index: candidate });
      unavailableCandidates.add(candidate);
      return { top1: 0, top5: null, loss: 0 };
    },
  };

  const altEvents: SearchEvent[] = [];
  let status: 'completed' | 'unavailable' = 'completed';
  try {
    await runHierarchicalSearch(
      altTraining,
      space,
      {
        searchId: started.searchId,
        seed: requireTree(altTraining).config.seed,
        candidates: started.candidates,
        topK: started.topK,
        flopsWindow: started.flopsWindow,
        hyperparameters: altHp,
        referenceLoss: altTraining.movingAverageLoss,
      },
      { evaluator, emit: (e) => void altEvents.push(e) },
    );
  } catch (err) {
    if (!(err instanceof UnavailableError)) throw err;
    unavailable.push(err.detail);
    status = 'unavailable';
  }

  const recCandidates = searchEvents.flatMap((e) => (e.type === 'CandidateEvaluated' ? [e.data] : []));
  const recCompleted = searchEvents.find((e) => e.type === 'SearchCompleted')?.data as EventData<'SearchCompleted'> | undefined;
  const altCandidates = altEvents.flatMap((e) => (e.type === 'CandidateEvaluated' ? [e.data] : []));
  const altValidations = altEvents.filter((e) => e.type === 'ValidationBatchEvaluated').length;
  const available = altCandidates.filter((c) => !unavailableCandidates.has(c.candidate));
  const altBestC = [...available].sort((a, b) => b.top1 - a.top1 || a.candidate - b.candidate)[0];
  const altBest = altBestC ? { architecture: altBestC.architecture, top1: altBestC.top1 } : null;
  const recBest = recCompleted?.best ?? null;
  const recordedPaths = recCandidates.map((c) => c.architecture);
  const altPaths = altCandidates.map((c) => c.architecture);
  const altAfter = status === 'completed' ? fold(altEvents, altTraining) : null;
  return {
    searchId: started.searchId,
    recorded: {
      best: recBest ? { architecture: [...recBest.architecture], top1: recBest.top1 } : null,
      candidates: recordedPaths,
      validationBatchEvaluations: searchEvents.filter((e) => e.type === 'ValidationBatchEvaluated').length,
    },
    alternative: {
      status,
      best: altBest,
      bestIsCertain: status === 'completed' && unavailableCandidates.size === 0,
      candidates: altPaths,
      validationBatchEvaluations: altValidations,
      unavailable,
    },
    sameChoice: recBest && altBest && status === 'completed' && unavailableCandidates.size === 0 ? pathKey(recBest.architecture) === pathKey(altBest.architecture) : null,
    sameCandidates: recordedPaths.length === altPaths.length && recordedPaths.every((p, i) => pathKey(p) === pathKey(altPaths[i]!)),
    tree: altAfter ? diffTrees(recordedAfter, altAfter, options) : null,
  };
}

/** Differences between two trees of the same space (walks both tries together). */
export function diffTrees(a: TreeState, b: TreeState, options: { nodeDiffLimit?: number; topLeaves?: number } = {}): TreeDiff {
  const ta = requireTree(a).tree;
  const tb = requireTree(b).tree;
  if (ta.numLayers !== tb.numLayers || ta.opCounts.some((c, l) => c !== tb.opCounts[l])) throw new RangeError('the trees are over different spaces');
  const limit = options.nodeDiffLimit ?? 20;
  const largest: NodeDiff[] = [];
  let onlyA = 0;
  let onlyB = 0;
  let changed = 0;
  let maxDn = 0;
  let maxDq = 0;
  const view = (t: TreeStore, id: number) =>
    id < 0 ? null : { n: t.n[id]!, s: t.s[id]!, qbar: meanReward(t.n[id]!, t.s[id]!), removed: t.removed[id] === 1 };
  const consider = (path: number[], ia: number, ib: number) => {
    const va = view(ta, ia);
    const vb = view(tb, ib);
    if (!va) onlyB++;
    if (!vb) onlyA++;
    const same = va && vb && va.n === vb.n && va.s === vb.s && va.removed === vb.removed;
    if (same) return;
    if (va && vb) changed++;
    const dn = (vb?.n ?? 0) - (va?.n ?? 0);
    const dq = (vb?.qbar ?? 0) - (va?.qbar ?? 0);
    maxDn = Math.max(maxDn, Math.abs(dn));
    maxDq = Math.max(maxDq, Math.abs(dq));
    if (limit > 0) {
      const d: NodeDiff = { path: pathKey(path), recorded: va, alternative: vb, dn, dqbar: dq };
      const worse = (x: NodeDiff, y: NodeDiff) => Math.abs(x.dqbar) > Math.abs(y.dqbar) || (Math.abs(x.dqbar) === Math.abs(y.dqbar) && Math.abs(x.dn) > Math.abs(y.dn));
      if (largest.length < limit || worse(d, largest[largest.length - 1]!)) {
        largest.push(d);
        largest.sort((x, y) => (worse(x, y) ? -1 : worse(y, x) ? 1 : 0));
        if (largest.length > limit) largest.pop();
      }
    }
  };
  const stack: { ia: number; ib: number; path: number[] }[] = [{ ia: 0, ib: 0, path: [] }];
  while (stack.length > 0) {
    const { ia, ib, path } = stack.pop()!;
    consider(path, ia, ib);
    const depth = path.length;
    if (depth === ta.numLayers) continue;
    for (let op = ta.opCounts[depth]! - 1; op >= 0; op--) {
      const ca = ta.child(ia, op);
      const cb = tb.child(ib, op);
      if (ca >= 0 || cb >= 0) stack.push({ ia: ca, ib: cb, path: [...path, op] });
    }
  }
  let maxG = 0;
  const ga: number[][] = [];
  const gb: number[][] = [];
  for (let l = 0; l < ta.numLayers; l++) {
    ga.push(Array.from(ta.g.subarray(ta.gOffsets[l]!, ta.gOffsets[l + 1]!)));
    gb.push(Array.from(tb.g.subarray(tb.gOffsets[l]!, tb.gOffsets[l + 1]!)));
  }
  for (let i = 0; i < ta.g.length; i++) maxG = Math.max(maxG, Math.abs(ta.g[i]! - tb.g[i]!));
  const k = options.topLeaves ?? 10;
  const leaves = (t: TreeStore) =>
    topLeafIds(t, k, { includeRemoved: true }).map((id) => ({ architecture: t.pathOf(id), n: t.n[id]!, qbar: meanReward(t.n[id]!, t.s[id]!) }));
  const la = leaves(ta);
  const lb = leaves(tb);
  const keysA = new Set(la.map((x) => pathKey(x.architecture)));
  const common = lb.filter((x) => keysA.has(pathKey(x.architecture))).length;
  const identical = onlyA === 0 && onlyB === 0 && changed === 0 && maxG === 0 && a.movingAverageLoss === b.movingAverageLoss;
  return {
    identical,
    nodes: { recorded: ta.size, alternative: tb.size, onlyRecorded: onlyA, onlyAlternative: onlyB, changed },
    maxAbsVisitDiff: maxDn,
    maxAbsQbarDiff: maxDq,
    largest,
    movingAverageLoss: { recorded: a.movingAverageLoss, alternative: b.movingAverageLoss },
    g: { recorded: ga, alternative: gb, maxAbsDiff: maxG },
    topLeaves: { recorded: la, alternative: lb, common },
  };
}
