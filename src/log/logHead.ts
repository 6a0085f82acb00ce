/**
 * The log head: one document that says how far the log is signed, and what batch (if any) is
 * being written past it.
 *
 * Why a single document: FerretDB v1's SQLite backend pushes no filter or sort down to an
 * index (each query scans its whole collection), so "the checkpoint with the largest size" or
 * "the last event" cost O(n) there. A one-document collection keeps the hot path O(1) on
 * every engine. Before writing a batch the sequencer records its leaf range as `pending`
 * (single-document atomic update); recovery replays exactly that range and nothing else.
 */
import { type Collection, MongoServerError } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';
import type { CheckpointDoc } from './checkpointStore';

export interface LogHeadDoc {
  _id: 'head';
  size: number;
  rootHash: string;
  note: string;
  signedAt: Date;
  /** recordedAt of the last leaf (ms since epoch), so it never decreases along the log. */
  lastRecordedAt: number;
  /** Leaves [from, to) being written after `size`; null when none. */
  pending: { from: number; to: number } | null;
}

export const LOG_HEAD_COLLECTION: CollectionDefinition = {
  name: 'logHead',
  schema: {
    bsonType: 'object',
    required: ['_id', 'size', 'rootHash', 'note', 'signedAt', 'lastRecordedAt', 'pending'],
    properties: {
      _id: { enum: ['head'] },
      size: { bsonType: ['int', 'long'], minimum: 0 },
      rootHash: { bsonType: 'string', pattern: '^[0-9a-f]{64}$' },
      note: { bsonType: 'string' },
      signedAt: { bsonType: 'date' },
      lastRecordedAt: { bsonType: ['int', 'long', 'double'], minimum: 0 },
      pending: { bsonType: ['object', 'null'] },
    },
  },
  indexes: [],
};

export class LogHead {
  constructor(private readonly heads: Collection<LogHeadDoc>) {}

  read(): Promise<LogHeadDoc | null> {
    return this.heads.findOne({ _id: 'head' });
  }

  /** The signed head as a checkpoint document. */
  async checkpoint(): Promise<CheckpointDoc | null> {
    const head = await this.read();
    return head ? { _id: head.size, rootHash: head.rootHash, note: head.note, createdAt: head.signedAt } : null;
  }

  /**
   * Records the batch about to be written, if the head is still at `from`. False means another
   * sequencer moved the head since this one last synced (its lease lapsed): it must rebuild
   * rather than write leaves the head does not expect. This is the fencing check of the lease.
   */
  async markPending(from: number, to: number): Promise<boolean> {
    const result = await this.heads.updateOne({ _id: 'head', size: from }, { $set: { pending: { from, to } } });
    return result.matchedCount === 1;
  }

  /**
   * Advances the head to a newer checkpoint. Sizes only grow: a slower process can never move
   * the head back (the filter on `size` keeps it, and the duplicate `_id` stops an upsert).
   */
  async advance(checkpoint: CheckpointDoc, lastRecordedAt: number): Promise<void> {
    const doc = {
      size: checkpoint._id,
      rootHash: checkpoint.rootHash,
      note: checkpoint.note,
      signedAt: checkpoint.createdAt,
      lastRecordedAt,
      pending: null,
    };
    try {
      await this.heads.updateOne({ _id: 'head', size: { $lte: checkpoint._id } }, { $set: doc }, { upsert: true });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    }
  }
}
