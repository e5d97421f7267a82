/**
 * A level-triggered wake-up: `fire()` before `wait()` is not lost. Used by subscribers, which
 * reset it before each read so a NOTIFY arriving mid-read triggers one more read.
 */
export class WakeSignal {
  private fired = false;
  private waiter: (() => void) | null = null;

  fire(): void {
    this.fired = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  reset(): void {
    this.fired = false;
  }

  /** Resolves on `fire()` or after `timeoutMs`, whichever is first. */
  wait(timeoutMs: number): Promise<void> {
    if (this.fired) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
