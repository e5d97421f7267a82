/**
 * Live events for SSE clients and metrics: ONE gap-safe subscription to the event store (the
 * hub) fans out to every client, so 100 SSE clients cost one query per wake-up, not 100.
 *
 * A client resuming from a checkpoint joins the hub first (buffering what it delivers), then
 * catches up from its checkpoint with its own gap-safe reads, then drains the buffer, skipping
 * what the catch-up already sent. Nothing is lost in the hand-over: the catch-up starts after
 * the hub fixed its start (the head checkpoint H), so an event the catch-up could not see yet
 * was not visible then either, hence comes after H, hence the hub delivers it. Both sources
 * deliver in the same (transaction id, position) order, so "after the last checkpoint sent"
 * removes exactly the duplicates.
 */
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Observable, Subject, type Subscriber, type Subscription } from 'rxjs';
import type { EventType } from '../../events/catalog.js';
import { EventFeed } from '../../events/stream-store.js';
import { type Checkpoint, checkpointOf, type StoredEvent } from '../../events/stored-event.js';

const CATCH_UP_PAGE = 500;
/** Polling fallback of the hub when no NOTIFY arrives (e.g. xmin held back by a long transaction). */
const HUB_POLL_MS = 500;

interface Hub {
  readonly events: Subject<StoredEvent>;
  /** resolves once the hub's start checkpoint is fixed and it is subscribed */
  readonly ready: Promise<void>;
  subscription: Subscription | null;
  users: number;
}

export function isAfter(event: Checkpoint, checkpoint: Checkpoint): boolean {
  const a = BigInt(event.transactionId);
  const b = BigInt(checkpoint.transactionId);
  return a > b || (a === b && event.position > checkpoint.position);
}

@Injectable()
export class LiveEvents implements OnModuleDestroy {
  private hub: Hub | null = null;
  private readonly clients = new Set<Subscriber<StoredEvent>>();
  private stopped = false;

  constructor(private readonly store: EventFeed) {}

  /** Streams being followed now (SSE clients); back to zero once they disconnect. */
  get openStreams(): number {
    return this.clients.size;
  }

  /** Subscribers of the hub now (streams and `live()` users such as the metrics). */
  get hubSubscribers(): number {
    return this.hub?.users ?? 0;
  }

  /** Every event appended from now on, in gap-safe order, for as long as it is subscribed. */
  live(): Observable<StoredEvent> {
    return new Observable<StoredEvent>((subscriber) => {
      const hub = this.acquire();
      const tap = hub.events.subscribe(subscriber);
      return () => {
        tap.unsubscribe();
        this.release(hub);
      };
    });
  }

  /** A stream's events after `from` (catch-up, then live), optionally of some types only. */
  follow(streamId: string, from: Checkpoint, types?: readonly EventType[]): Observable<StoredEvent> {
    const wanted = types ? new Set<string>(types) : null;
    return new Observable<StoredEvent>((subscriber) => {
      if (this.stopped) {
        subscriber.complete();
        return;
      }
      this.clients.add(subscriber);
      const hub = this.acquire();
      let last = from;
      let live = false;
      let closed = false;
      const pending: StoredEvent[] = [];
      const send = (event: StoredEvent) => {
        if (!isAfter(event, last)) return;
        last = checkpointOf(event);
        subscriber.next(event);
      };
      const tap = hub.events.subscribe({
        next: (event) => {
          if (event.streamId !== streamId || (wanted && !wanted.has(event.type))) return;
          if (live) send(event);
          else pending.push(event);
        },
        error: (error: unknown) => subscriber.error(error),
      });
      const catchUp = async () => {
        await hub.ready;
        for (;;) {
          if (closed) return;
          const page = await this.store.readAll(last, CATCH_UP_PAGE, { streamId, ...(types ? { types } : {}) });
          if (closed) return;
          for (const event of page) send(event);
          if (page.length < CATCH_UP_PAGE) break;
        }
        live = true;
        for (const event of pending.splice(0)) send(event);
      };
      catchUp().catch((error: unknown) => {
        if (!closed) subscriber.error(error);
      });
      return () => {
        closed = true;
        this.clients.delete(subscriber);
        tap.unsubscribe();
        this.release(hub);
      };
    });
  }

  /** Ends every open stream (so the HTTP server can close) and stops the hub. */
  onModuleDestroy(): void {
    this.stopped = true;
    for (const client of [...this.clients]) client.complete();
    this.hub?.subscription?.unsubscribe();
    this.hub = null;
  }

  private acquire(): Hub {
    if (!this.hub) {
      const events = new Subject<StoredEvent>();
      const hub: Hub = {
        events,
        subscription: null,
        users: 0,
        ready: this.store.headCheckpoint().then((head) => {
          if (this.hub !== hub) return;
          hub.subscription = this.store.subscribe(head, { pollIntervalMs: HUB_POLL_MS }).subscribe({
            next: (event) => events.next(event),
            error: (error: unknown) => {
              // Clients see the error (an EventSource reconnects with its Last-Event-ID);
              // the next client starts a fresh hub.
              if (this.hub === hub) this.hub = null;
              events.error(error);
            },
          });
        }),
      };
      hub.ready.catch((error: unknown) => {
        if (this.hub === hub) this.hub = null;
        events.error(error);
      });
      this.hub = hub;
    }
    this.hub.users++;
    return this.hub;
  }

  private release(hub: Hub): void {
    hub.users--;
    if (hub.users > 0 || this.hub !== hub) return;
    hub.subscription?.unsubscribe();
    this.hub = null;
  }
}
