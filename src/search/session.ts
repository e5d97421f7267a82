/**
 * The engine every strategy runs on: it persists each event before the next decision and
 * replays a recorded prefix.
 *
 * Protocol. A strategy makes one decision at a time and hands each event to `emit`, awaiting it
 * before deciding anything else, so the caller can persist every event first. Strategies are
 * deterministic given (settings, evaluator answers): randomness comes from
 * `rngFor(seed, counter, purpose)`.
 *
 * Resume. Pass the events of the interrupted search already stored (from its SearchStarted on)
 * as `recorded`. The strategy reruns from the start: every event it produces is compared with
 * the recorded one at the same index (a difference raises `SearchReplayError`) and not emitted
 * again; evaluator questions already answered in the recorded events are answered from them
 * (`RecordedAnswers`). From the first event past the recorded prefix on, events are emitted and
 * the evaluator is called. For the hierarchical search, pass the tree as it was before the
 * SearchStarted.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Architecture } from '../search-space/definition.js';
import type { TreeEvent } from '../tree/events.js';
import { sameArchitecture } from '../tree/reward.js';
import type { StrategyName } from './config.js';
import { invalidEvaluationError, searchExhaustedError, searchReplayError } from './errors.js';
import type { CandidateEvaluator, FullValidationResult } from './evaluator.js';
import { rankCandidates, type CandidateResult, type SearchOutcome } from './outcome.js';
import { RecordedAnswers, type RecordedAnswer } from './recorded-answers.js';
import { checkSettings, type SearchSettings } from './settings.js';

export type SearchEventType =
  | 'SearchStarted'
  | 'ValidationBatchEvaluated'
  | 'VisitCountsUpdated'
  | 'CandidateRemoved'
  | 'CandidateEvaluated'
  | 'SearchCompleted';
export type SearchEvent = Extract<TreeEvent, { type: SearchEventType }>;
export type EmitFn = (event: SearchEvent) => Promise<void> | void;

export interface RunOptions {
  readonly evaluator: CandidateEvaluator;
  readonly emit: EmitFn;
  /** events of this search already stored (resume); see the file comment */
  readonly recorded?: readonly { readonly type: string; readonly data: unknown }[];
  /** checked before every decision; an aborted search can be resumed later */
  readonly signal?: AbortSignal;
}

/**
 * Persists events through `emit` (or checks them against the recorded prefix) and answers
 * evaluator questions from the recorded prefix first.
 */
export class SearchSession {
  private cursor = 0;
  private readonly recorded: readonly { readonly type: string; readonly data: unknown }[];
  private readonly answers: RecordedAnswers;
  readonly evaluated: CandidateResult[] = [];
  validationBatchEvaluations = 0;

  /** `observer` sees every event right after it is persisted (or matched), in order. */
  constructor(
    private readonly settings: SearchSettings,
    private readonly options: RunOptions,
    private readonly observer?: (event: SearchEvent) => void,
  ) {
    checkSettings(settings);
    this.recorded = options.recorded ?? [];
    this.answers = new RecordedAnswers(this.recorded);
  }

  /** Number of events produced so far (replayed or emitted). */
  get produced(): number {
    return this.cursor;
  }

  checkAborted(): void {
    this.options.signal?.throwIfAborted();
  }

  async push(event: SearchEvent): Promise<void> {
    const i = this.cursor;
    if (i < this.recorded.length) {
      const r = this.recorded[i]!;
      if (r.type !== event.type || !isDeepStrictEqual(r.data, event.data)) {
        throw searchReplayError(
          `search '${this.settings.searchId}' diverged from its recorded events at index ${i}: recorded ${r.type} ${JSON.stringify(r.data)}, replay produced ${event.type} ${JSON.stringify(event.data)}`,
        );
      }
    } else {
      await this.options.emit(event);
    }
    this.cursor = i + 1;
    this.observer?.(event);
  }

  /** After SearchCompleted: the recorded prefix must not be longer than the replay. */
  finish(): void {
    if (this.cursor < this.recorded.length) {
      throw searchReplayError(`search '${this.settings.searchId}' has ${this.recorded.length - this.cursor} recorded events after its completion`);
    }
  }

  /** The recorded answer when the record has one (for the same architecture), else the evaluator's. */
  private async answer<T>(recorded: RecordedAnswer<T> | undefined, architecture: Architecture, question: string, ask: () => Promise<T> | T): Promise<T> {
    this.checkAborted();
    if (!recorded) return ask();
    if (!sameArchitecture(recorded.architecture, architecture)) {
      throw searchReplayError(`${question} was recorded for [${recorded.architecture.join(',')}], the replay asks it for [${architecture.join(',')}]`);
    }
    return recorded.answer;
  }

  /** The validation batch of evaluation `evaluation`: one batch serves `updateDataFreq` consecutive evaluations. */
  batchOf(evaluation: number): number {
    return Math.floor(evaluation / this.settings.updateDataFreq);
  }

  /** The loss of evaluation `evaluation` on `batch` (default: the batch `updateDataFreq` gives it). */
  async validationLoss(architecture: Architecture, evaluation: number, batch = this.batchOf(evaluation)): Promise<number> {
    const loss = await this.answer(this.answers.validation(evaluation), architecture, `validation evaluation ${evaluation}`, () =>
      this.options.evaluator.validationBatchLoss(architecture, batch),
    );
    if (typeof loss !== 'number' || !Number.isFinite(loss) || loss <= 0) {
      throw invalidEvaluationError(`validation batch loss of [${architecture.join(',')}] must be finite and > 0, got ${String(loss)}`);
    }
    this.validationBatchEvaluations = evaluation + 1;
    return loss;
  }

  async fullValidation(architecture: Architecture, candidate: number): Promise<FullValidationResult> {
    const result = await this.answer(this.answers.candidate(candidate), architecture, `the full validation of candidate ${candidate}`, () =>
      this.options.evaluator.fullValidation(architecture, candidate),
    );
    const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100;
    if (!result || !ok(result.top1) || !(result.top5 === null || ok(result.top5)) || typeof result.loss !== 'number' || !Number.isFinite(result.loss)) {
      throw invalidEvaluationError(`full validation of [${architecture.join(',')}] returned an invalid result ${JSON.stringify(result)}`);
    }
    return { top1: result.top1, top5: result.top5 ?? null, loss: result.loss };
  }

  /** Evaluates candidate `architecture` fully and emits CandidateEvaluated. */
  async evaluateCandidate(architecture: number[], flops: number, params: number): Promise<CandidateResult> {
    const candidate = this.evaluated.length;
    const r = await this.fullValidation(architecture, candidate);
    const result: CandidateResult = { candidate, architecture, top1: r.top1, top5: r.top5, loss: r.loss, flops, params };
    await this.push({
      type: 'CandidateEvaluated',
      data: { searchId: this.settings.searchId, candidate, architecture, top1: r.top1, top5: r.top5, loss: r.loss, flops, params },
    });
    this.evaluated.push(result);
    return result;
  }

  async start(strategy: StrategyName): Promise<void> {
    const s = this.settings;
    await this.push({
      type: 'SearchStarted',
      data: {
        searchId: s.searchId,
        strategy,
        candidates: s.candidates,
        topK: s.topK,
        referenceLoss: s.referenceLoss,
        flopsWindow: s.flopsWindow,
        scope: s.scope,
        tree: 'as-trained',
        updateDataFreq: s.updateDataFreq,
        shortlist: s.shortlist,
      },
    });
  }

  /** Emits SearchCompleted and returns the outcome. Throws when nothing was evaluated. */
  async complete(strategy: StrategyName, exhausted: boolean): Promise<SearchOutcome> {
    const ranked = rankCandidates(this.evaluated);
    if (ranked.length === 0) {
      throw searchExhaustedError(`search '${this.settings.searchId}' found no candidate to evaluate (FLOPs window or space exhausted)`);
    }
    const top = ranked.slice(0, this.settings.topK);
    const best = ranked[0]!;
    await this.push({
      type: 'SearchCompleted',
      data: {
        searchId: this.settings.searchId,
        best: { architecture: best.architecture, top1: best.top1 },
        top: top.map((c) => ({ architecture: c.architecture, top1: c.top1 })),
        validationBatchEvaluations: this.validationBatchEvaluations,
      },
    });
    this.finish();
    return {
      searchId: this.settings.searchId,
      strategy,
      evaluated: [...this.evaluated],
      best,
      top,
      validationBatchEvaluations: this.validationBatchEvaluations,
      exhausted,
      events: this.cursor,
    };
  }
}
