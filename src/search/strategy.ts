/**
 * What every search strategy shares: the evaluator interface, settings, the outcome, and the
 * session that persists each event before the next decision and replays a recorded prefix.
 *
 * Protocol. A strategy is an async function that makes one decision at a time and hands each
 * event to `emit`, awaiting it before deciding anything else, so the caller can persist every
 * event first. Strategies are deterministic given (settings, evaluator answers): randomness
 * comes from `rngFor(seed, counter, purpose)`.
 *
 * Resume. Pass the events of the interrupted search already stored (from its SearchStarted on)
 * as `recorded`. The strategy reruns from the start: every event it produces is compared with
 * the recorded one at the same index (a difference raises `SearchReplayError`) and not emitted
 * again; evaluator questions already answered in the recorded events are answered from them.
 * From the first event past the recorded prefix on, events are emitted and the evaluator is
 * called. For the hierarchical search, pass the tree as it was before the SearchStarted.
 */
import { isDeepStrictEqual } from 'node:util';
import type { DomainEvent, EventData, FlopsWindow, Hyperparameters } from '../events/catalog.js';
import type { Architecture } from '../search-space/types.js';
import { sameArchitecture } from '../tree/reward.js';
import { requireTree, type TreeState } from '../tree/state.js';

export interface FullValidationResult {
  /** top-1 accuracy in percent */
  readonly top1: number;
  readonly top5: number | null;
  readonly loss: number;
}

/**
 * Answers a search's questions about the supernet. BatchNorm recalibration before a full
 * validation is the evaluator's job.
 */
export interface CandidateEvaluator {
  /** loss of `architecture` on one validation batch; `evaluation` is the search's running index */
  validationBatchLoss(architecture: Architecture, evaluation: number): Promise<number> | number;
  /** top-1 (and top-5) accuracy and loss on the full validation split; `candidate` is its index */
  fullValidation(architecture: Architecture, candidate: number): Promise<FullValidationResult> | FullValidationResult;
}

export type SearchEventType =
  | 'SearchStarted'
  | 'ValidationBatchEvaluated'
  | 'VisitCountsUpdated'
  | 'CandidateRemoved'
  | 'CandidateEvaluated'
  | 'SearchCompleted';
export type SearchEvent = Extract<DomainEvent, { type: SearchEventType }>;
export type EmitFn = (event: SearchEvent) => Promise<void> | void;

export interface SearchSettings {
  readonly searchId: string;
  readonly seed: number;
  /** K: distinct candidates fully evaluated */
  readonly candidates: number;
  readonly topK: number;
  readonly flopsWindow: FlopsWindow | null;
  readonly hyperparameters: Hyperparameters;
  /** frozen Ltilde at the end of training (validation reward = referenceLoss / batch loss) */
  readonly referenceLoss: number;
}

export interface RunOptions {
  readonly evaluator: CandidateEvaluator;
  readonly emit: EmitFn;
  /** events of this search already stored (resume); see the file comment */
  readonly recorded?: readonly { readonly type: string; readonly data: unknown }[];
  /** checked before every decision; an aborted search can be resumed later */
  readonly signal?: AbortSignal;
}

export interface CandidateResult {
  readonly candidate: number;
  readonly architecture: number[];
  readonly top1: number;
  readonly top5: number | null;
  readonly loss: number;
  readonly flops: number;
  readonly params: number;
}

export interface SearchOutcome {
  readonly searchId: string;
  readonly strategy: 'hierarchical' | 'random' | 'evolutionary';
  /** every full evaluation, in order */
  readonly evaluated: CandidateResult[];
  readonly best: CandidateResult;
  /** the top `topK` by top-1 (ties: earlier candidate first) */
  readonly top: CandidateResult[];
  readonly validationBatchEvaluations: number;
  /** fewer than K candidates were possible (the window or the space ran out) */
  readonly exhausted: boolean;
  /** events produced, including the replayed prefix */
  readonly events: number;
}

export class SearchReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchReplayError';
  }
}

export class SearchExhaustedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchExhaustedError';
  }
}

export class InvalidEvaluationError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEvaluationError';
  }
}

/** Settings from the experiment (ExperimentCreated) and the tree's Ltilde, with overrides. */
export function searchSettings(
  state: TreeState,
  searchId: string,
  overrides: {
    readonly candidates?: number;
    readonly topK?: number;
    readonly flopsWindow?: FlopsWindow | null;
    readonly hyperparameters?: Partial<Hyperparameters>;
    readonly referenceLoss?: number;
    readonly seed?: number;
  } = {},
): SearchSettings {
  const { config } = requireTree(state);
  const settings: SearchSettings = {
    searchId,
    seed: overrides.seed ?? config.seed,
    candidates: overrides.candidates ?? config.search.candidates,
    topK: overrides.topK ?? config.search.topK,
    flopsWindow: overrides.flopsWindow !== undefined ? overrides.flopsWindow : config.flopsWindow,
    hyperparameters: { ...config.hyperparameters, ...overrides.hyperparameters },
    referenceLoss: overrides.referenceLoss ?? state.movingAverageLoss,
  };
  checkSettings(settings);
  return settings;
}

export function checkSettings(s: SearchSettings): void {
  if (typeof s.searchId !== 'string' || s.searchId.length === 0) throw new RangeError('searchId must be a non-empty string');
  if (!Number.isInteger(s.candidates) || s.candidates < 1) throw new RangeError(`candidates must be a positive integer, got ${s.candidates}`);
  if (!Number.isInteger(s.topK) || s.topK < 1) throw new RangeError(`topK must be a positive integer, got ${s.topK}`);
  if (!Number.isFinite(s.referenceLoss) || s.referenceLoss < 0) throw new RangeError(`referenceLoss must be finite and >= 0, got ${s.referenceLoss}`);
}

/** Ranking used by every strategy: top-1 descending, earlier candidate first on ties. */
export function rankCandidates(results: readonly CandidateResult[]): CandidateResult[] {
  return [...results].sort((a, b) => b.top1 - a.top1 || a.candidate - b.candidate);
}

/**
 * Persists events through `emit` (or checks them against the recorded prefix) and answers
 * evaluator questions from the recorded prefix first.
 */
export class SearchSession {
  private cursor = 0;
  private readonly recorded: readonly { readonly type: string; readonly data: unknown }[];
  private readonly recordedValidation = new Map<number, { architecture: Architecture; loss: number }>();
  private readonly recordedCandidates = new Map<number, { architecture: Architecture; result: FullValidationResult }>();
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
    for (const e of this.recorded) {
      if (e.type === 'ValidationBatchEvaluated') {
        const d = e.data as EventData<'ValidationBatchEvaluated'>;
        this.recordedValidation.set(d.evaluation, { architecture: d.architecture, loss: d.loss });
      } else if (e.type === 'CandidateEvaluated') {
        const d = e.data as EventData<'CandidateEvaluated'>;
        this.recordedCandidates.set(d.candidate, { architecture: d.architecture, result: { top1: d.top1, top5: d.top5, loss: d.loss } });
      }
    }
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
        throw new SearchReplayError(
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
      throw new SearchReplayError(`search '${this.settings.searchId}' has ${this.recorded.length - this.cursor} recorded events after its completion`);
    }
  }

  async validationLoss(architecture: Architecture, evaluation: number): Promise<number> {
    this.checkAborted();
    const rec = this.recordedValidation.get(evaluation);
    let loss: number;
    if (rec) {
      if (!sameArchitecture(rec.architecture, architecture)) {
        throw new SearchReplayError(`validation evaluation ${evaluation} was recorded for [${rec.architecture.join(',')}], replay asks for [${architecture.join(',')}]`);
      }
      loss = rec.loss;
    } else {
      loss = await this.options.evaluator.validationBatchLoss(architecture, evaluation);
    }
    if (typeof loss !== 'number' || !Number.isFinite(loss) || loss <= 0) {
      throw new InvalidEvaluationError(`validation batch loss of [${architecture.join(',')}] must be finite and > 0, got ${String(loss)}`);
    }
    this.validationBatchEvaluations = evaluation + 1;
    return loss;
  }

  async fullValidation(architecture: Architecture, candidate: number): Promise<FullValidationResult> {
    this.checkAborted();
    const rec = this.recordedCandidates.get(candidate);
    let result: FullValidationResult;
    if (rec) {
      if (!sameArchitecture(rec.architecture, architecture)) {
        throw new SearchReplayError(`candidate ${candidate} was recorded as [${rec.architecture.join(',')}], replay proposes [${architecture.join(',')}]`);
      }
      result = rec.result;
    } else {
      result = await this.options.evaluator.fullValidation(architecture, candidate);
    }
    const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100;
    if (!result || !ok(result.top1) || !(result.top5 === null || ok(result.top5)) || typeof result.loss !== 'number' || !Number.isFinite(result.loss)) {
      throw new InvalidEvaluationError(`full validation of [${architecture.join(',')}] returned an invalid result ${JSON.stringify(result)}`);
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

  async start(strategy: SearchOutcome['strategy']): Promise<void> {
    const s = this.settings;
    await this.push({
      type: 'SearchStarted',
      data: { searchId: s.searchId, strategy, candidates: s.candidates, topK: s.topK, referenceLoss: s.referenceLoss, flopsWindow: s.flopsWindow },
    });
  }

  /** Emits SearchCompleted and returns the outcome. Throws when nothing was evaluated. */
  async complete(strategy: SearchOutcome['strategy'], exhausted: boolean): Promise<SearchOutcome> {
    const ranked = rankCandidates(this.evaluated);
    if (ranked.length === 0) {
      throw new SearchExhaustedError(`search '${this.settings.searchId}' found no candidate to evaluate (FLOPs window or space exhausted)`);
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
