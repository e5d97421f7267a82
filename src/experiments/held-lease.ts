import type { Lease } from './experiment-status.js';

/** The lease commands a holder needs (ExperimentService has them). */
export interface LeaseCommands {
  acquireLease(id: string, workerId: string, ttlMs?: number): Promise<Lease & { position: number }>;
  heartbeat(id: string, leaseId: string): Promise<Lease & { position: number }>;
  releaseLease(id: string, leaseId: string): Promise<unknown>;
}

/**
 * An experiment lease held by this process, kept alive by the one heartbeat loop (every third
 * of its TTL, never more often than every 100 ms). A failed
 * heartbeat is remembered, not thrown from the timer: the holder calls `check()` between steps.
 */
export class HeldLease {
  private failure: unknown = null;
  private timer: NodeJS.Timeout | null;

  private constructor(
    private readonly service: LeaseCommands,
    readonly experimentId: string,
    readonly lease: Lease,
  ) {
    this.timer = setInterval(() => {
      this.service.heartbeat(experimentId, lease.leaseId).catch((error: unknown) => {
        this.failure = error;
      });
    }, Math.max(100, Math.floor(lease.ttlMs / 3)));
    this.timer.unref();
  }

  /** Acquires the lease (or re-acquires this worker's own, e.g. after a crash) and starts heartbeating. */
  static async acquire(service: LeaseCommands, experimentId: string, workerId: string, ttlMs = 30_000): Promise<HeldLease> {
    const lease = await service.acquireLease(experimentId, workerId, ttlMs);
    return new HeldLease(service, experimentId, { workerId: lease.workerId, leaseId: lease.leaseId, expiresAt: lease.expiresAt, ttlMs: lease.ttlMs });
  }

  get leaseId(): string {
    return this.lease.leaseId;
  }

  get workerId(): string {
    return this.lease.workerId;
  }

  /** The error of a failed heartbeat, if one failed. */
  get heartbeatFailure(): unknown {
    return this.failure;
  }

  /** Throws the failed heartbeat's error, if one failed (the lease may be lost). */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Stops heartbeating and releases the lease (a no-op in the store once it is no longer in force). */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.service.releaseLease(this.experimentId, this.lease.leaseId);
  }
}
