/**
 * Idempotency keys: `_id` = the caller-scoped key, pointing at the event it recorded. A separate
 * collection keyed by `_id` (rather than a query on events) keeps the look-up a primary-key read
 * on every engine. The events keep the key too (`idem`, unique), so recovery can rebuild these
 * documents for a batch that crashed between the two writes.
 */
import { type Collection, MongoBulkWriteError, MongoServerError } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';

export interface IdempotencyDoc {
  _id: string;
  leafIndex: number;
}

export const IDEMPOTENCY_COLLECTION: CollectionDefinition = {
  name: 'idempotencyKeys',
  schema: {
    bsonType: 'object',
    required: ['_id', 'leafIndex'],
    properties: { _id: { bsonType: 'string' }, leafIndex: { bsonType: ['int', 'long'], minimum: 0 } },
  },
  indexes: [],
};

export class IdempotencyStore {
  constructor(private readonly keys: Collection<IdempotencyDoc>) {}

  /** The leaf index recorded under each key that has one. */
  async lookup(keys: readonly string[]): Promise<Map<string, number>> {
    const found = await Promise.all(keys.map((k) => this.keys.findOne({ _id: k })));
    return new Map(found.flatMap((d) => (d ? [[d._id, d.leafIndex] as const] : [])));
  }

  async remember(entries: readonly IdempotencyDoc[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.keys.insertMany([...entries], { ordered: false });
    } catch (err) {
      // Re-remembering during recovery finds some keys already there: that is the point.
      const duplicateOnly =
        err instanceof MongoBulkWriteError
          ? (Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]).every((e) => e.code === 11000)
          : err instanceof MongoServerError && err.code === 11000;
      if (!duplicateOnly) throw err;
    }
  }
}
