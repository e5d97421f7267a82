/**
 * Prometheus metrics. Event counts, training steps and delivery lag come from the live hub
 * (so they count appends from every process sharing the database, not just this one); lease
 * state (the status projection's fold of the index's lease events) and pipeline lag are read
 * at scrape time.
 *
 * About "projection lag": the tree projection catches up to the stream head on every read, so
 * a served view is never behind its read. What can lag is the live pipeline (SSE, these
 * counters): `mctnas_live_lag_events` counts committed events it has not delivered yet and
 * `mctnas_event_delivery_lag_seconds` is the time from an event's commit to its delivery.
 */
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { EventFeed } from '../../events/stream-store.js';
import { type Checkpoint, checkpointOf, START, type StoredEvent } from '../../events/stored-event.js';
import { activeLease, leaseFromEvents } from '../../experiments/experiment-status.js';
import { ExperimentIndex } from '../../experiments/ports.js';
import { LiveEvents } from '../events/live-events.js';

/** Window of the steps-per-second gauge. */
const RATE_WINDOW_MS = 60_000;

/** Times of recent events, oldest first; dropping the expired ones costs amortized O(1) per event. */
class RecentTimes {
  private times: number[] = [];
  private head = 0;

  add(time: number): void {
    this.times.push(time);
  }

  /** How many are at or after `since`; forgets the older ones. */
  countSince(since: number): number {
    while (this.head < this.times.length && this.times[this.head]! < since) this.head++;
    if (this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }
}

@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly appended: Counter<'type'>;
  private readonly steps: Counter<'experiment'>;
  private readonly deliveryLag: Histogram;
  private readonly stepTimes = new Map<string, RecentTimes>();
  private delivered: Checkpoint = START;
  private subscription: Subscription | null = null;
  private destroyed = false;

  constructor(
    private readonly live: LiveEvents,
    private readonly index: ExperimentIndex,
    private readonly store: EventFeed,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'mctnas_process_' });
    this.appended = new Counter({ name: 'mctnas_events_appended_total', help: 'Events appended since this process started, by type', labelNames: ['type'], registers });
    this.steps = new Counter({ name: 'mctnas_training_steps_total', help: 'Training steps rewarded (RewardRecorded) since this process started', labelNames: ['experiment'], registers });
    this.deliveryLag = new Histogram({
      name: 'mctnas_event_delivery_lag_seconds',
      help: 'Time from an event commit to its delivery on the live feed',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const rate: Gauge<'experiment'> = new Gauge({
      name: 'mctnas_training_steps_per_second',
      help: `Training steps per second over the last ${RATE_WINDOW_MS / 1000} s`,
      labelNames: ['experiment'],
      registers,
      collect: () => {
        rate.reset();
        const since = Date.now() - RATE_WINDOW_MS;
        for (const [experiment, times] of this.stepTimes) {
          const recent = times.countSince(since);
          if (recent === 0) this.stepTimes.delete(experiment);
          rate.set({ experiment }, recent / (RATE_WINDOW_MS / 1000));
        }
      },
    });
    const streams: Gauge = new Gauge({
      name: 'mctnas_sse_streams',
      help: 'Live event streams (SSE) open now',
      registers,
      collect: () => streams.set(this.live.openStreams),
    });
    const lag: Gauge = new Gauge({
      name: 'mctnas_live_lag_events',
      help: 'Committed events the live feed (SSE, these counters) has not delivered yet',
      registers,
      collect: async () => lag.set(await this.undelivered()),
    });
    const leases: Gauge<'experiment' | 'worker'> = new Gauge({
      name: 'mctnas_lease_held',
      help: 'Whether a worker holds an unexpired lease on the experiment (1, labelled with the worker) or not (0)',
      labelNames: ['experiment', 'worker'],
      registers,
      collect: async () => {
        leases.reset();
        const now = new Date();
        for (const { experimentId, events } of await this.index.leaseEvents()) {
          const lease = activeLease({ lease: leaseFromEvents(events) }, now);
          leases.set({ experiment: experimentId, worker: lease?.workerId ?? '' }, lease ? 1 : 0);
        }
      },
    });
  }

  async onModuleInit(): Promise<void> {
    // Counting starts now: history is not replayed into the counters.
    this.delivered = await this.store.headCheckpoint();
    this.subscribe();
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private observe(event: StoredEvent): void {
    this.delivered = checkpointOf(event);
    this.appended.inc({ type: event.type });
    this.deliveryLag.observe(Math.max(0, Date.now() - event.createdAt.getTime()) / 1000);
    if (event.type === 'RewardRecorded') {
      this.steps.inc({ experiment: event.streamId });
      let times = this.stepTimes.get(event.streamId);
      if (!times) this.stepTimes.set(event.streamId, (times = new RecentTimes()));
      // Pruned here too, not only at scrape time: a service nobody scrapes keeps one window.
      const now = Date.now();
      times.add(now);
      times.countSince(now - RATE_WINDOW_MS);
    }
  }

  private subscribe(): void {
    this.subscription = this.live.live().subscribe({
      next: (event) => this.observe(event),
      // The hub fails on a database hiccup; resubscribe shortly so the counters keep counting.
      error: () => {
        this.subscription = null;
        setTimeout(() => {
          if (!this.subscription && !this.destroyed) this.subscribe();
        }, 1000).unref();
      },
    });
  }

  private undelivered(): Promise<number> {
    return this.store.countAfter(this.delivered);
  }
}
