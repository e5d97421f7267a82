import cliProgress from 'cli-progress';
import type { TrainingProgress } from '../training/training-worker.js';

/** A terminal progress bar for training: phase, step, loss, steps/s, ETA. */
export function trainingProgressBar(stream: NodeJS.WriteStream = process.stderr) {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{phase} |{bar}| step {value}/{total} | loss {loss} | {rate} steps/s | ETA {eta_formatted}',
      barsize: 30,
      hideCursor: true,
      etaBuffer: 50,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p: TrainingProgress): void {
      const payload = { phase: p.phase.padEnd(13), loss: p.loss.toFixed(4), rate: p.stepsPerSecond.toFixed(2) };
      if (!started) {
        bar.start(p.totalSteps, p.step + 1, payload);
        started = true;
      } else bar.update(p.step + 1, payload);
    },
    stop(): void {
      if (started) bar.stop();
    },
  };
}
