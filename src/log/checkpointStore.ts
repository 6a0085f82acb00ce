/**
 * The archive of signed checkpoints, one document per published tree size (`_id` = size): the
 * history `verify-db` checks. The server never reads it on a request path (the latest is the
 * log head; past sizes are re-signed on demand). Ed25519 signatures are deterministic and the
 * tree is a function of the stored leaves, so any process that signs a given size produces
 * the same note: a duplicate insert is harmless and simply ignored.
 */
import { type Collection, MongoServerError } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';

export interface CheckpointDoc {
  _id: number;
  rootHash: string;
  note: string;
  createdAt: Date;
}

export const CHECKPOINTS_COLLECTION: CollectionDefinition = {
  name: 'checkpoints',
  schema: {
    bsonType: 'object',
    required: ['_id', 'rootHash', 'note', 'createdAt'],
    properties: {
      _id: { bsonType: ['int', 'long'], minimum: 0 },
      rootHash: { bsonType: 'string', pattern: '^[0-9a-f]{64}$' },
      note: { bsonType: 'string' },
      createdAt: { bsonType: 'date' },
    },
  },
  indexes: [],
};

export class CheckpointStore {
  constructor(private readonly checkpoints: Collection<CheckpointDoc>) {}

  async save(doc: CheckpointDoc): Promise<void> {
    try {
      await this.checkpoints.insertOne(doc);
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    }
  }
}
