/**
 * The sequencer lease: at most one process appends at a time. It is a single document
 * changed only by single-document atomic updates; `token` grows on every change of owner, so
 * a process that sees its token unchanged knows nobody else appended in between and may keep
 * its in-memory tree state. Correctness never rests on the lease alone (a paused process may
 * outlive it): the unique leaf index in `events` rejects a second writer, and the tree is a
 * function of the stored leaves.
 */
import { type Collection, MongoServerError } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';

export interface LeaseDoc {
  _id: string;
  owner: string;
  token: number;
  expiresAt: Date;
  /** Another process waiting for the lease; the holder releases after its current batch. */
  wantedBy: string | null;
}

export const LEASES_COLLECTION: CollectionDefinition = {
  name: 'leases',
  schema: {
    bsonType: 'object',
    required: ['_id', 'owner', 'token', 'expiresAt'],
    properties: {
      _id: { bsonType: 'string' },
      owner: { bsonType: 'string' },
      token: { bsonType: ['int', 'long'] },
      expiresAt: { bsonType: 'date' },
      wantedBy: { bsonType: ['string', 'null'] },
    },
  },
  indexes: [],
};

const LEASE_ID = 'sequencer';

export interface HeldLease {
  readonly token: number;
  /** Another process that asked for the lease, if any. */
  readonly wantedBy: string | undefined;
}

export class Lease {
  constructor(
    private readonly leases: Collection<LeaseDoc>,
    readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes or renews the lease; undefined if another live process holds it. */
  async acquire(): Promise<HeldLease | undefined> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    const renewed = await this.leases.findOneAndUpdate(
      { _id: LEASE_ID, owner: this.owner },
      { $set: { expiresAt } },
      { returnDocument: 'after' },
    );
    if (renewed) {
      const wantedBy = renewed.wantedBy !== null && renewed.wantedBy !== this.owner ? renewed.wantedBy : undefined;
      return { token: renewed.token, wantedBy };
    }
    const taken = await this.leases.findOneAndUpdate(
      { _id: LEASE_ID, expiresAt: { $lt: now } },
      { $set: { owner: this.owner, expiresAt, wantedBy: null }, $inc: { token: 1 } },
      { returnDocument: 'after' },
    );
    if (taken) return { token: taken.token, wantedBy: undefined };
    try {
      await this.leases.insertOne({ _id: LEASE_ID, owner: this.owner, token: 1, expiresAt, wantedBy: null });
      return { token: 1, wantedBy: undefined };
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    }
    await this.leases.updateOne({ _id: LEASE_ID, owner: { $ne: this.owner } }, { $set: { wantedBy: this.owner } });
    return undefined;
  }

  /**
   * Gives the lease up. Handed to a waiting process it changes owner and token at once (so
   * the waiter cannot be starved by our next batch); otherwise it just expires now and keeps
   * its owner, so that, untaken, our next acquire finds the same token and keeps its state.
   */
  async release(handTo?: string): Promise<void> {
    if (handTo) {
      await this.leases.updateOne(
        { _id: LEASE_ID, owner: this.owner },
        { $set: { owner: handTo, expiresAt: new Date(Date.now() + this.ttlMs), wantedBy: null }, $inc: { token: 1 } },
      );
    } else {
      await this.leases.updateOne({ _id: LEASE_ID, owner: this.owner }, { $set: { expiresAt: new Date(0) } });
    }
  }
}
