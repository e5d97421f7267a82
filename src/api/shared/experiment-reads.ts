/**
 * How every read endpoint gets its view of an experiment: now (the live projection, caught up
 * to the stream head) or as of a past position, after waiting for `minPosition`.
 *
 * Read-your-writes. `minPosition=P` waits until the database holds a committed event at
 * position P or later, then reads the stream head. Appends to one stream are serialized by the
 * stream's row lock, so for a position returned by a write to this experiment (or seen on its
 * event stream) the view is guaranteed to include it. A position from another experiment only
 * orders the read after that write. Not reached within `waitMs` (default 5 s, at most 30 s):
 * 409 PositionNotReachedError with Retry-After, never a 5xx — the service is healthy, the
 * position just does not exist yet.
 *
 * Concurrent reads of one experiment are coalesced: every read that arrives while another is
 * catching up joins the next catch-up, so a burst of N reads costs one event query instead of
 * N serialized ones. Each read still starts its catch-up after it arrived (read-your-writes).
 */
import { Injectable } from '@nestjs/common';
import { EventFeed } from '../../events/stream-store.js';
import { WakeSignal } from '../../events/wake-signal.js';
import { ExperimentProjections, type ExperimentView } from '../../experiments/experiment-projections.js';
import { PositionNotReachedError } from './errors.js';
import { DEFAULT_WAIT_MS } from './validation.js';

export interface ReadOptions {
  /** as of this global position (events after it are ignored) */
  readonly at?: number;
  readonly minPosition?: number;
  readonly waitMs?: number;
}

interface PendingRead {
  readonly read: (view: ExperimentView) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Re-checks the position at least this often while waiting, in case a NOTIFY is lost. */
const WAIT_POLL_MS = 250;

@Injectable()
export class ExperimentReads {
  private readonly queues = new Map<string, PendingRead[]>();

  constructor(
    private readonly projections: ExperimentProjections,
    private readonly feed: EventFeed,
  ) {}

  /**
   * Runs `read` on the experiment's view: as of `at`, or now. `read` receives the live view
   * when reading now: it must be synchronous and return plain data (no references into it).
   */
  async view<T>(id: string, options: ReadOptions, read: (view: ExperimentView) => T): Promise<T> {
    const required = Math.max(options.at ?? 0, options.minPosition ?? 0);
    if (required > 0) await this.awaitPosition(required, options.waitMs ?? DEFAULT_WAIT_MS);
    if (options.at !== undefined) return read(await this.projections.at(id, options.at));
    return this.coalesced(id, read);
  }

  /**
   * The experiment's view as `view` would read it, as an immutable copy that stays valid across
   * awaits (for answers written over time, e.g. a streamed tree). Reading now, concurrent callers
   * at one stream version share one copy (the projector keeps it until the next event).
   */
  async stableView(id: string, options: ReadOptions): Promise<ExperimentView> {
    const required = Math.max(options.at ?? 0, options.minPosition ?? 0);
    if (required > 0) await this.awaitPosition(required, options.waitMs ?? DEFAULT_WAIT_MS);
    return options.at !== undefined ? this.projections.at(id, options.at) : this.projections.current(id);
  }

  /** Waits until the database holds a committed event at `position` or later. */
  async awaitPosition(position: number, waitMs: number): Promise<void> {
    if (await this.reached(position)) return;
    if (waitMs <= 0) throw new PositionNotReachedError(position, 0);
    const deadline = Date.now() + waitMs;
    const wake = new WakeSignal();
    const unlisten = await this.feed.onAppend(() => wake.fire());
    try {
      for (;;) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new PositionNotReachedError(position, waitMs);
        wake.reset();
        await wake.wait(Math.min(remaining, WAIT_POLL_MS));
        if (await this.reached(position)) return;
      }
    } finally {
      await unlisten();
    }
  }

  /** The newest committed position in the database (0 when empty). */
  headPosition(): Promise<number> {
    return this.feed.headPosition();
  }

  private reached(position: number): Promise<boolean> {
    return this.feed.hasPosition(position);
  }

  private coalesced<T>(id: string, read: (view: ExperimentView) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending = { read, resolve: resolve as (value: unknown) => void, reject };
      const queue = this.queues.get(id);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(id, [pending]);
      void this.drain(id);
    });
  }

  private async drain(id: string): Promise<void> {
    const queue = this.queues.get(id)!;
    while (queue.length > 0) {
      const batch = queue.splice(0);
      try {
        await this.projections.read(id, (view) => {
          for (const pending of batch) {
            try {
              pending.resolve(pending.read(view));
            } catch (error) {
              pending.reject(error);
            }
          }
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.queues.delete(id);
  }
}
