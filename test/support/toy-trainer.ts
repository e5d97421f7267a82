import type { Architecture } from '../../src/search-space/definition.js';
import type { CandidateEvaluator } from '../../src/search/evaluator.js';
import type { StepTrainer } from '../../src/training/step-trainer.js';

/**
 * A deterministic stand-in for the supernet trainer, for protocol tests (resume, ask/tell,
 * checkpoints) that must run in milliseconds: one float per (layer, op) "weight", updated by
 * each step on its path; the loss depends on the weights, so a wrong resume (missing or doubled
 * step) changes every later loss.
 */
export class ToyTrainer implements StepTrainer {
  readonly backend = { backend: 'toy', skipped: [] };
  private weights: Float64Array;
  trainedSteps: number[] = [];

  constructor(private readonly opCounts: readonly number[]) {
    this.weights = new Float64Array(opCounts.reduce((a, b) => a + b, 0)).fill(1);
  }

  private offset(layer: number): number {
    let offset = 0;
    for (let l = 0; l < layer; l++) offset += this.opCounts[l]!;
    return offset;
  }

  async trainStep(step: number, architecture: Architecture): Promise<number> {
    let loss = 0.5;
    architecture.forEach((op, layer) => {
      const i = this.offset(layer) + op;
      loss += this.weights[i]! / (1 + op);
      this.weights[i] = this.weights[i]! * 0.97 + ((step % 5) + 1) * 1e-3;
    });
    this.trainedSteps.push(step);
    return loss / architecture.length;
  }

  saveState(): Uint8Array {
    return new Uint8Array(this.weights.slice().buffer);
  }

  loadState(bytes: Uint8Array): void {
    this.weights = new Float64Array(Uint8Array.from(bytes).buffer);
  }

  evaluator(): CandidateEvaluator {
    return {
      validationBatchLoss: (architecture) => 0.5 + architecture.reduce((a, op, l) => a + this.weights[this.offset(l) + op]!, 0) / architecture.length,
      fullValidation: (architecture) => {
        const quality = architecture.reduce((a, op, l) => a + this.weights[this.offset(l) + op]!, 0) / architecture.length;
        return { top1: Math.max(0, Math.min(100, 100 - quality * 40)), top5: null, loss: quality };
      },
    };
  }

  dispose(): void {}
}
