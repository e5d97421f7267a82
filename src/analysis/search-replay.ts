/**
 * The search half of a what-if: the chosen recorded search (default: the last hierarchical
 * one) rerun from the alternative end-of-training tree with the alternative n_thrd, C2, tau,
 * gamma and reference loss (the alternative Ltilde). Evaluations are served from the record
 * (`RecordedAnswers`, the index a resumed search answers from): a validation-batch loss
 * recorded for an architecture is reused (the k-th request for an architecture gets its k-th
 * recorded loss, cycling), a full validation recorded for an architecture (by any search in the
 * history) is reused. A validation batch that was never recorded stops the rerun: it is
 * reported as unavailable along with what the rerun had done so far. A missing full validation
 * does not change which candidates the search proposes (hierarchical selection never reads
 * accuracies), so the rerun continues and lists the candidate as unavailable; the alternative
 * choice is then the best of the available candidates and flagged uncertain.
 */
import { DomainError, hasCode } from '../kernel/domain-error.js';
import type { Architecture } from '../search-space/definition.js';
import type { CandidateEvaluator, FullValidationResult } from '../search/evaluator.js';
import { hierarchicalSearch } from '../search/hierarchical.js';
import { rankCandidates } from '../search/outcome.js';
import { RecordedAnswers } from '../search/recorded-answers.js';
import type { SearchEvent } from '../search/session.js';
import type { TreeEvent } from '../tree/events.js';
import { fold } from '../tree/evolve.js';
import type { Hyperparameters } from '../tree/hyperparameters.js';
import type { SpaceModel } from '../tree/space-model.js';
import { requireTree, type TreeState } from '../tree/state.js';
import { pathKey } from '../tree/store.js';
import type { SearchWhatIf, TreeDiffOptions, UnavailableEvaluation } from './report.js';
import { diffTrees } from './tree-diff.js';

const UNAVAILABLE = 'EvaluationUnavailable';

export interface SearchReplayOptions {
  readonly space: SpaceModel;
  readonly hyperparameters: Hyperparameters;
  readonly searchId?: string;
  /** how the trees after the recorded and the rerun search are compared */
  readonly diff: TreeDiffOptions;
}

/** Reruns a recorded hierarchical search of `history` from `trained`; null (with a note) when there is none. */
export async function replaySearch(history: readonly TreeEvent[], trained: TreeState, options: SearchReplayOptions, notes: string[]): Promise<SearchWhatIf | null> {
  const startIndex = history.findLastIndex((e) => e.type === 'SearchStarted' && (options.searchId ? e.data.searchId === options.searchId : e.data.strategy === hierarchicalSearch.name));
  const start = history[startIndex];
  if (start?.type !== 'SearchStarted') {
    notes.push(options.searchId ? `no search '${options.searchId}' in the history` : 'no hierarchical search in the history');
    return null;
  }
  const started = start.data;
  if (started.strategy !== hierarchicalSearch.name) {
    notes.push(`search '${started.searchId}' is ${started.strategy}: it does not read the tree, so the hyperparameters cannot change it`);
    return null;
  }
  // The recorded search's events: from its SearchStarted to the next SearchStarted.
  const next = history.findIndex((e, i) => i > startIndex && e.type === 'SearchStarted');
  const endIndex = next < 0 ? history.length : next;
  const searchEvents = history.slice(startIndex, endIndex);
  const recordedAfter = fold(history.slice(0, endIndex));
  if (startIndex !== history.findIndex((e) => e.type === 'SearchStarted')) {
    notes.push('the compared search was not the first one; the rerun starts from the end-of-training tree');
  }

  const evaluator = new RecordReader(new RecordedAnswers(history));
  const altEvents: SearchEvent[] = [];
  let status: 'completed' | 'unavailable' = 'completed';
  try {
    await hierarchicalSearch.run(
      { state: trained, space: options.space },
      {
        searchId: started.searchId,
        seed: requireTree(trained).config.seed,
        candidates: started.candidates,
        topK: started.topK,
        flopsWindow: started.flopsWindow,
        scope: started.scope,
        updateDataFreq: started.updateDataFreq,
        shortlist: started.shortlist,
        hyperparameters: options.hyperparameters,
        referenceLoss: trained.movingAverageLoss,
      },
      { evaluator, emit: (e) => void altEvents.push(e) },
    );
  } catch (error) {
    if (!hasCode(error, UNAVAILABLE)) throw error;
    status = 'unavailable';
  }

  const recCandidates = searchEvents.flatMap((e) => (e.type === 'CandidateEvaluated' ? [e.data] : []));
  const recCompleted = searchEvents.find((e) => e.type === 'SearchCompleted');
  const altCandidates = altEvents.flatMap((e) => (e.type === 'CandidateEvaluated' ? [e.data] : []));
  const altValidations = altEvents.filter((e) => e.type === 'ValidationBatchEvaluated').length;
  const altBestC = rankCandidates(altCandidates.filter((c) => !evaluator.unavailableCandidates.has(c.candidate)))[0];
  const altBest = altBestC ? { architecture: altBestC.architecture, top1: altBestC.top1 } : null;
  const recBest = recCompleted?.type === 'SearchCompleted' ? recCompleted.data.best : null;
  const recordedPaths = recCandidates.map((c) => c.architecture);
  const altPaths = altCandidates.map((c) => c.architecture);
  const certain = status === 'completed' && evaluator.unavailableCandidates.size === 0;
  const altAfter = status === 'completed' ? fold(altEvents, trained) : null;
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
      bestIsCertain: certain,
      candidates: altPaths,
      validationBatchEvaluations: altValidations,
      unavailable: evaluator.unavailable,
    },
    sameChoice: recBest && altBest && certain ? pathKey(recBest.architecture) === pathKey(altBest.architecture) : null,
    sameCandidates: recordedPaths.length === altPaths.length && recordedPaths.every((p, i) => pathKey(p) === pathKey(altPaths[i]!)),
    tree: altAfter ? diffTrees(recordedAfter, altAfter, options.diff) : null,
  };
}

/** An evaluator that only reads the record, and lists what it could not answer. */
class RecordReader implements CandidateEvaluator {
  readonly unavailable: UnavailableEvaluation[] = [];
  readonly unavailableCandidates = new Set<number>();
  private readonly requests = new Map<string, number>();

  constructor(private readonly answers: RecordedAnswers) {}

  validationBatchLoss(architecture: Architecture, evaluation: number): number {
    const losses = this.answers.validationLosses(architecture);
    if (!losses) {
      this.unavailable.push({ kind: 'validation-batch', architecture: [...architecture], index: evaluation });
      throw new DomainError('unprocessable', UNAVAILABLE, `validation-batch of [${architecture.join(',')}] was never recorded`);
    }
    const key = pathKey(architecture);
    const k = this.requests.get(key) ?? 0;
    this.requests.set(key, k + 1);
    return losses[k % losses.length]!;
  }

  fullValidation(architecture: Architecture, candidate: number): FullValidationResult {
    const result = this.answers.fullValidation(architecture);
    if (result) return result;
    this.unavailable.push({ kind: 'full-validation', architecture: [...architecture], index: candidate });
    this.unavailableCandidates.add(candidate);
    return { top1: 0, top5: null, loss: 0 };
  }
}
