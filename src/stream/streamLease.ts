/**
 * A named lease over the stream store's compare-and-set: one holder at a time among the server
 * processes sharing a database (the webhook delivery worker, the alert evaluator). Held by
 * renewing before `ttlMs` runs out; a holder that dies is replaced once its lease expires; one
 * that stops cleanly releases it at once.
 */
import type { StreamStore } from '../storage/port';

interface LeaseValue {
  readonly owner: string;
  /** ms since epoch. */
  readonly expiresAt: number;
}

export class StreamLease {
  constructor(
    private readonly store: StreamStore,
    private readonly name: string,
    private readonly owner: string,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes or renews the lease; false while another live owner holds it. */
  async hold(): Promise<boolean> {
    const mine = JSON.stringify({ owner: this.owner, expiresAt: this.now() + this.ttlMs } satisfies LeaseValue);
    const record = await this.store.get('lease', this.name);
    if (!record) return this.store.insert('lease', this.name, mine);
    const held = JSON.parse(record.value) as LeaseValue;
    if (held.owner !== this.owner && held.expiresAt > this.now()) return false;
    return this.store.update('lease', this.name, record.version, mine);
  }

  async release(): Promise<void> {
    const record = await this.store.get('lease', this.name);
    if (!record || (JSON.parse(record.value) as LeaseValue).owner !== this.owner) return;
    await this.store.update('lease', this.name, record.version, JSON.stringify({ owner: this.owner, expiresAt: 0 } satisfies LeaseValue));
  }
}
