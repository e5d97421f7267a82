/**
 * One SSE connection per open run, fanned out to the panels: events are batched and handed
 * over once per animation frame, so a burst of events costs one render, not one per event.
 */
import { followEvents, type LiveEvent, type StreamState } from './api.js';

type Listener = (events: LiveEvent[]) => void;

export class LiveFeed {
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(state: StreamState) => void>();
  private pending: LiveEvent[] = [];
  private frame: number | null = null;
  private readonly abort = new AbortController();
  /** events received since the feed opened */
  received = 0;
  state: StreamState = 'connecting';

  constructor(experimentId: string, from?: Promise<string | undefined>) {
    void (from ?? Promise.resolve(undefined)).then((checkpoint) => this.follow(experimentId, checkpoint));
  }

  private follow(experimentId: string, from: string | undefined): Promise<void> {
    if (this.abort.signal.aborted) return Promise.resolve();
    return followEvents(
      experimentId,
      [],
      (events) => {
        this.received += events.length;
        this.pending.push(...events);
        if (this.frame === null) this.frame = requestAnimationFrame(() => this.flush());
      },
      (state) => {
        this.state = state;
        for (const listener of this.stateListeners) listener(state);
      },
      this.abort.signal,
      from,
    );
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  close(): void {
    this.abort.abort();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
  }

  private flush(): void {
    this.frame = null;
    const events = this.pending;
    this.pending = [];
    for (const listener of this.listeners) listener(events);
  }
}
