/**
 * The evaluator answers a history already holds: every recorded validation-batch loss and full
 * validation, indexed by the search's running counters (a resumed search asks again in the same
 * order: `SearchSession`) and by architecture (a what-if rerun asks for the same networks in
 * another order: src/analysis).
 */
import type { Architecture } from '../search-space/definition.js';
import { isTreeEvent } from '../tree/events.js';
import { pathKey } from '../tree/store.js';
import type { FullValidationResult } from './evaluator.js';

/** An answer as recorded, with the architecture it was given for. */
export interface RecordedAnswer<T> {
  readonly architecture: Architecture;
  readonly answer: T;
}

export class RecordedAnswers {
  private readonly byEvaluation = new Map<number, RecordedAnswer<number>>();
  private readonly byCandidate = new Map<number, RecordedAnswer<FullValidationResult>>();
  private readonly lossesByArchitecture = new Map<string, number[]>();
  private readonly resultByArchitecture = new Map<string, FullValidationResult>();

  constructor(events: readonly { readonly type: string; readonly data: unknown }[]) {
    for (const event of events) {
      if (!isTreeEvent(event)) continue;
      if (event.type === 'ValidationBatchEvaluated') {
        const { evaluation, architecture, loss } = event.data;
        this.byEvaluation.set(evaluation, { architecture, answer: loss });
        const key = pathKey(architecture);
        const losses = this.lossesByArchitecture.get(key);
        if (losses) losses.push(loss);
        else this.lossesByArchitecture.set(key, [loss]);
      } else if (event.type === 'CandidateEvaluated') {
        const { candidate, architecture, top1, top5, loss } = event.data;
        const result = { top1, top5, loss };
        this.byCandidate.set(candidate, { architecture, answer: result });
        const key = pathKey(architecture);
        if (!this.resultByArchitecture.has(key)) this.resultByArchitecture.set(key, result);
      }
    }
  }

  /** The validation batch recorded as evaluation `evaluation`. */
  validation(evaluation: number): RecordedAnswer<number> | undefined {
    return this.byEvaluation.get(evaluation);
  }

  /** The full validation recorded as candidate `candidate`. */
  candidate(candidate: number): RecordedAnswer<FullValidationResult> | undefined {
    return this.byCandidate.get(candidate);
  }

  /** Every validation-batch loss recorded for `architecture`, in history order. */
  validationLosses(architecture: Architecture): readonly number[] | undefined {
    return this.lossesByArchitecture.get(pathKey(architecture));
  }

  /** The first full validation recorded for `architecture`. */
  fullValidation(architecture: Architecture): FullValidationResult | undefined {
    return this.resultByArchitecture.get(pathKey(architecture));
  }
}
