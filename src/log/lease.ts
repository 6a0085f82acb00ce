/**
 * The sequencer lease as one process sees it: its owner id and time to live bound to the
 * storage port's lease. At most one process appends at a time; correctness never rests on
 * the lease alone (a paused process may outlive it): the log head's compare-and-set
 * (`markPending`) and the unique leaf index reject a stale writer, and the tree is a
 * function of the stored leaves.
 */
import type { HeldLease, LeaseRepository } from '../storage/port';

export class Lease {
  constructor(
    private readonly leases: LeaseRepository,
    readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  acquire(): Promise<HeldLease | undefined> {
    return this.leases.acquire(this.owner, this.ttlMs);
  }

  release(handTo?: string): Promise<void> {
    return this.leases.release(this.owner, this.ttlMs, handTo);
  }
}

export type { HeldLease };
