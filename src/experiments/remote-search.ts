/**
 * The search driven over ask/tell, for a trainer that is not in this process (a PyTorch job):
 * once training is over, `ask` hands the trainer the search's next question — one validation
 * batch's loss for a path, or the full-validation accuracy of a candidate (after BatchNorm
 * recalibration on the trainer's side) — and `tell` records its answer as the usual search
 * events (ValidationBatchEvaluated, CandidateEvaluated, ...). After SearchCompleted the
 * experiment is completed.
 *
 * Stateless, so any API replica can serve any call and a crashed trainer repeats nothing: each
 * call runs the experiment's search through `runSearchOnExperiment`, which replays the recorded
 * prefix (answering the questions already answered from the stored events) and appends what
 * follows with idempotency keys. The evaluator it is given answers the one question being told
 * and stops the run at the first question nobody has answered yet: that question is the answer
 * of `ask`. Cost: one replay of the search so far per call (cheap next to a validation pass).
 */
import { IdempotencyConflictError } from '../events/errors.js';
import type { EventData } from '../events/catalog.js';
import type { CandidateEvaluator, FullValidationResult } from '../search/evaluator.js';
import { searchConfigOf } from '../search/config.js';
import { totalTrainingSteps } from '../tree/schedule.js';
import { requireTree } from '../tree/state.js';
import { assertValidLoss } from '../tree/reward.js';
import { ExperimentStateError, LeaseConflictError, StepOrderError } from './errors.js';
import { activeLease } from './experiment-status.js';
import type { ExperimentEventStore } from './experiment-event-store.js';
import type { ExperimentService, StepSample } from './experiment-service.js';
import type { ExperimentView } from './experiment-projections.js';
import { runSearchOnExperiment } from './search-runner.js';

/** What the search needs from the trainer next. */
export type SearchQuestion =
  | {
      readonly kind: 'validation-batch';
      readonly searchId: string;
      /** the search's running index of validation-batch evaluations */
      readonly evaluation: number;
      /** the validation batch to use: consecutive evaluations share one (the authors' update_data_freq) */
      readonly batch: number;
      readonly architecture: number[];
    }
  | {
      readonly kind: 'full-validation';
      readonly searchId: string;
      /** index of the candidate among those fully evaluated */
      readonly candidate: number;
      readonly architecture: number[];
      /** training batches to re-estimate BatchNorm statistics on before validating */
      readonly bnRecalibrationBatches: number;
    };

/** The trainer's answer to a SearchQuestion. */
export type SearchAnswer =
  | { readonly kind: 'validation-batch'; readonly searchId: string; readonly evaluation: number; readonly loss: number }
  | { readonly kind: 'full-validation'; readonly searchId: string; readonly candidate: number; readonly top1: number; readonly top5: number | null; readonly loss: number };

export type SearchTurn =
  | { readonly done: false; readonly question: SearchQuestion; readonly position: number }
  | { readonly done: true; readonly result: EventData<'SearchCompleted'> | null; readonly position: number };

export interface SearchTold {
  /** true when this answer was already recorded (a retry): nothing was written */
  readonly duplicate: boolean;
  /** the stream position after the answer is recorded */
  readonly position: number;
  /** what comes next (saves the trainer an ask) */
  readonly next: SearchTurn;
}

/** Stops a search run at a question nobody has answered yet. */
class PendingQuestion extends Error {
  constructor(readonly question: SearchQuestion) {
    super(`pending ${question.kind}`);
  }
}

const sameQuestion = (q: SearchQuestion, a: SearchAnswer) =>
  q.kind === a.kind && q.searchId === a.searchId && (q.kind === 'validation-batch' ? q.evaluation === (a as { evaluation?: number }).evaluation : q.candidate === (a as { candidate?: number }).candidate);

/** The search turn of an experiment whose training is over; `answer` is recorded first when given. */
async function turn(
  service: ExperimentService<ExperimentEventStore>,
  id: string,
  leaseId: string,
  answer: SearchAnswer | null,
): Promise<{ turn: SearchTurn; consumed: boolean }> {
  const view = await service.projections.current(id);
  const { config } = requireTree(view.tree);
  const trainingSteps = totalTrainingSteps(config.schedule);
  if (view.status.lifecycle === 'completed') return { turn: { done: true, result: view.status.completedSearch, position: view.position }, consumed: false };
  const lease = activeLease(view.status, new Date());
  if (!lease || lease.leaseId !== leaseId) throw new LeaseConflictError(`lease '${leaseId}' is not the active lease of experiment '${id}'`);
  if (view.status.lifecycle === 'failed') throw new ExperimentStateError(`experiment '${id}' is failed`);
  if (view.status.lifecycle === 'paused') throw new ExperimentStateError(`experiment '${id}' is paused: resume it first`);
  if (view.tree.lastRewardedStep !== trainingSteps - 1) {
    throw new StepOrderError(`experiment '${id}' is still training (step ${view.tree.lastRewardedStep + 1} of ${trainingSteps} is next): tell the training losses first`);
  }
  const interrupted = view.tree.search && !view.tree.search.completed;
  if (!interrupted && view.status.completedSearch) return { turn: await completed(service, id, trainingSteps), consumed: false };

  const bnRecalibrationBatches = searchConfigOf(config.experiment).bnRecalibrationBatches;
  let searchId = '';
  let consumed = false;
  const ask = <T>(question: SearchQuestion, value: () => T): T => {
    if (answer && sameQuestion(question, answer)) {
      consumed = true;
      return value();
    }
    throw new PendingQuestion(question);
  };
  // The evaluator is only called for questions nobody answered yet, so the running index of a
  // validation question is the number of validation answers recorded before it.
  let evaluation = interrupted ? (await recordedValidations(service, id, view.tree.search!.searchId)) : 0;
  const evaluator: CandidateEvaluator = {
    validationBatchLoss: (architecture, batch) =>
      ask({ kind: 'validation-batch', searchId, evaluation: evaluation++, batch, architecture: [...architecture] }, () => answer!.loss),
    fullValidation: (architecture, candidate): FullValidationResult =>
      ask({ kind: 'full-validation', searchId, candidate, architecture: [...architecture], bnRecalibrationBatches }, () => {
        const a = answer as Extract<SearchAnswer, { kind: 'full-validation' }>;
        return { top1: a.top1, top5: a.top5, loss: a.loss };
      }),
  };
  // The search id the run will use (the interrupted one, or the next new one): questions name it.
  searchId = interrupted ? view.tree.search!.searchId : `search-${view.status.searches.length + 1}`;
  try {
    await runSearchOnExperiment(service, id, { leaseId, evaluator, searchId });
  } catch (error) {
    if (!(error instanceof PendingQuestion)) throw error;
    const position = (await service.projections.current(id)).position;
    return { turn: { done: false, question: error.question, position }, consumed };
  }
  return { turn: await completed(service, id, trainingSteps), consumed };
}

async function completed(service: ExperimentService<ExperimentEventStore>, id: string, trainingSteps: number): Promise<SearchTurn> {
  const { position } = await service.complete(id, trainingSteps);
  const view: ExperimentView = await service.projections.current(id);
  return { done: true, result: view.status.completedSearch, position: Math.max(position, view.position) };
}

/** The search's next question for the lease holder, or its result once it is complete. */
export async function askSearch(service: ExperimentService<ExperimentEventStore>, id: string, leaseId: string): Promise<SearchTurn> {
  return (await turn(service, id, leaseId, null)).turn;
}

/**
 * Records the answer to the pending search question and returns the next turn. Retrying an
 * answer already recorded with the same values returns `duplicate: true` and writes nothing;
 * different values for it are a conflict; an answer to any other question is a StepOrderError.
 */
export async function tellSearch(service: ExperimentService<ExperimentEventStore>, id: string, leaseId: string, answer: SearchAnswer): Promise<SearchTold> {
  assertValidLoss(answer.loss);
  const result = await turn(service, id, leaseId, answer);
  if (result.consumed) return { duplicate: false, position: result.turn.position, next: result.turn };
  const recorded = await recordedAnswer(service, id, answer);
  if (!recorded) {
    const expected = result.turn.done ? 'nothing: the search is complete' : describe(result.turn.question);
    throw new StepOrderError(`${answer.kind} ${answer.kind === 'validation-batch' ? answer.evaluation : answer.candidate} of '${answer.searchId}' is not the pending question: the search asks for ${expected}`);
  }
  const same =
    answer.kind === 'validation-batch'
      ? recorded.data.loss === answer.loss
      : recorded.data.loss === answer.loss && (recorded.data as EventData<'CandidateEvaluated'>).top1 === answer.top1 && (recorded.data as EventData<'CandidateEvaluated'>).top5 === answer.top5;
  if (!same) {
    throw new IdempotencyConflictError(id, `${answer.searchId}:${answer.kind}`, `${describe(answer)} already recorded ${JSON.stringify(recorded.data)}; refusing different values`);
  }
  return { duplicate: true, position: recorded.position, next: result.turn };
}

function describe(q: SearchQuestion | SearchAnswer): string {
  return q.kind === 'validation-batch' ? `validation batch ${q.evaluation} of '${q.searchId}'` : `full validation of candidate ${q.candidate} of '${q.searchId}'`;
}

async function recordedValidations(service: ExperimentService<ExperimentEventStore>, id: string, searchId: string): Promise<number> {
  const events = await service.store.readStream(id, { types: ['ValidationBatchEvaluated'] });
  return events.filter((e) => (e.data as { searchId: string }).searchId === searchId).length;
}

async function recordedAnswer(service: ExperimentService<ExperimentEventStore>, id: string, answer: SearchAnswer) {
  const type = answer.kind === 'validation-batch' ? 'ValidationBatchEvaluated' : 'CandidateEvaluated';
  const events = await service.store.readStream(id, { types: [type] });
  for (const event of events) {
    const data = event.data as { searchId: string; evaluation?: number; candidate?: number; loss: number };
    if (data.searchId !== answer.searchId) continue;
    if (answer.kind === 'validation-batch' ? data.evaluation === answer.evaluation : data.candidate === answer.candidate) return { data, position: event.position };
  }
  return null;
}

export type AskTurn = { readonly done: false; readonly kind: 'train'; readonly sample: StepSample } | SearchTurn;

/**
 * The whole run over ask/tell: the next training step while training lasts, then (unless
 * `search` is false: trainers that run the search themselves) the search's questions, then the
 * result. A completed experiment answers its result to anyone (it holds no lease any more).
 */
export async function askNext(service: ExperimentService<ExperimentEventStore>, id: string, leaseId: string, options: { search?: boolean } = {}): Promise<AskTurn | { readonly done: true; readonly result: null; readonly position: null }> {
  const view = await service.projections.current(id);
  if (view.status.lifecycle === 'completed') return { done: true, result: view.status.completedSearch, position: view.position };
  const sample = await service.ask(id, leaseId);
  if (sample) return { done: false, kind: 'train', sample };
  if (options.search === false) return { done: true, result: null, position: null };
  return askSearch(service, id, leaseId);
}
