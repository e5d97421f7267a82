/**
 * A first SIGINT/SIGTERM asks a long command to stop at its next safe point (the signal aborts);
 * a second one exits at once. `release()` removes the handlers when the command ends.
 */
export interface GracefulStop {
  readonly signal: AbortSignal;
  release(): void;
}

export function gracefulStop(announcement: string, signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): GracefulStop {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    console.error(announcement);
    controller.abort();
  };
  for (const name of signals) process.on(name, stop);
  return {
    signal: controller.signal,
    release: () => {
      for (const name of signals) process.off(name, stop);
    },
  };
}
