import { hasCode } from '../kernel/domain-error.js';
import type { Lease } from './experiment-status.js';

/** The lease commands a holder needs (ExperimentService has them). */
export interface LeaseCommands {
  acquireLease(id: string, workerId: string, ttlMs?: number): Promise<Lease & { position: number }>;
  heartbeat(id: string, leaseId: string): Promise<Lease & { position: number }>;
  releaseLease(id: string, leaseId: string): Promise<unknown>;
}

/**
 * An experiment lease held by this process, kept alive by the one heartbeat loop (every third
 * of its TTL, never more often than every 100 ms; one at a time). A failed heartbeat is
 * remembered, not thrown from the timer: the holder calls `check()` between steps. A heartbeat
 * that fails because the database is unavailable is not a failure: the next one retries.
 */
export class HeldLease {
  private failure: unknown = null;
  private beating = false;
  private timer: NodeJS.Timeout | null;

  private constructor(
    private readonly service: LeaseCommands,
    readonly experimentId: string,
    readonly lease: Lease,
  ) {
    this.timer = setInterval(() => {
      if (this.beating) return; // the previous one still waits (a slow or unavailable database)
      this.beating = true;
      this.service
        .heartbeat(experimentId, lease.leaseId)
        .catch((error: unknown) => {
          // An outage is not a lost lease: the next beat tries again. If it outlasts the TTL,
          // the first beat after it says whether the lease is still ours.
          if (!hasCode(error, 'DatabaseUnavailable')) this.failure = error;
        })
        .finally(() => {
          this.beating = false;
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
