/**
 * The log's small collections: hash tiles, the checkpoint archive, the log head, idempotency
 * keys and the sequencer lease. Every read here is by `_id` and every write a single-document
 * atomic operation, because FerretDB v1 pushes no other filter down to an index and has no
 * transactions: correctness across processes rests on unique `_id`s and guarded updates.
 */
import type { Collection, Db } from 'mongodb';
import type {
  CheckpointMark,
  CheckpointRepository,
  CosignatureRepository,
  HeldLease,
  IdempotencyRecord,
  IdempotencyRepository,
  LeaseRepository,
  LogHeadRecord,
  LogHeadRepository,
  SignedCheckpoint,
  StoredCosignature,
  StoredTile,
  TileId,
  TileRepository,
} from '../port';
import {
  binaryOf,
  bytesOf,
  CHECKPOINTS_COLLECTION,
  type CheckpointDoc,
  COSIGNATURES_COLLECTION,
  type CosignatureDoc,
  type EventDoc,
  EVENTS_COLLECTION,
  HEAD_ID,
  IDEMPOTENCY_COLLECTION,
  type IdempotencyDoc,
  LEASE_ID,
  type LeaseDoc,
  LEASES_COLLECTION,
  LOG_HEAD_COLLECTION,
  type LogHeadDoc,
  tileKey,
  type TileDoc,
  TILES_COLLECTION,
} from './documents';
import { onlyDuplicateKeys } from './driverErrors';
import { assertFieldsMatchSchema, assertMatchesSchema } from './jsonSchema';

const HASH_SIZE = 32;

export class MongoTileRepository implements TileRepository {
  private readonly tiles: Collection<TileDoc>;

  constructor(db: Db) {
    this.tiles = db.collection<TileDoc>(TILES_COLLECTION.name);
  }

  async read(ids: readonly TileId[]): Promise<StoredTile[]> {
    // One primary-key read per tile rather than `$in`, which FerretDB v1 answers with a scan.
    const found = await Promise.all(ids.map((id) => this.tiles.findOne({ _id: tileKey(id.level, id.index) })));
    return found.flatMap((doc, i) => (doc ? [{ level: ids[i]!.level, index: ids[i]!.index, hashes: bytesOf(doc.hashes) }] : []));
  }

  /**
   * Writes each tile by `_id` alone: a guard on `width` in the filter would scan every tile on
   * FerretDB. A tile only grows; the lease keeps one writer, and a tile written narrower by a
   * process that lost its lease mid-batch is rewritten whole by the next batch.
   */
  async write(tiles: readonly StoredTile[]): Promise<void> {
    await Promise.all(
      tiles.map((tile) => {
        const fields = { level: tile.level, index: tile.index, width: tile.hashes.length / HASH_SIZE, hashes: binaryOf(tile.hashes) };
        assertMatchesSchema(TILES_COLLECTION.name, TILES_COLLECTION.schema, { _id: tileKey(tile.level, tile.index), ...fields });
        return this.tiles.updateOne({ _id: tileKey(tile.level, tile.index) }, { $set: fields }, { upsert: true });
      }),
    );
  }
}

export class MongoCheckpointRepository implements CheckpointRepository {
  private readonly checkpoints: Collection<CheckpointDoc>;

  constructor(db: Db) {
    this.checkpoints = db.collection<CheckpointDoc>(CHECKPOINTS_COLLECTION.name);
  }

  /**
   * Ed25519 signatures are deterministic and the tree is a function of the stored leaves, so
   * any process signing a given size produces the same note: a duplicate is simply ignored.
   */
  async save(checkpoint: SignedCheckpoint): Promise<void> {
    const doc: CheckpointDoc = { _id: checkpoint.treeSize, rootHash: checkpoint.rootHash, note: checkpoint.note, createdAt: checkpoint.createdAt };
    assertMatchesSchema(CHECKPOINTS_COLLECTION.name, CHECKPOINTS_COLLECTION.schema, doc);
    try {
      await this.checkpoints.insertOne(doc);
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
    }
  }

  latestAt(instants: readonly Date[]): Promise<(CheckpointMark | undefined)[]> {
    return Promise.all(
      instants.map(async (at) => markOf(await this.checkpoints.find({ createdAt: { $lte: at } }, MARK_FIELDS).sort({ createdAt: -1, _id: -1 }).limit(1).next())),
    );
  }

  async earliest(): Promise<CheckpointMark | undefined> {
    // The range on createdAt lets the planner pick created_at_size (an unfiltered sort might not).
    return markOf(await this.checkpoints.find({ createdAt: { $gte: new Date(0) } }, MARK_FIELDS).sort({ createdAt: 1, _id: 1 }).limit(1).next());
  }
}

const MARK_FIELDS = { projection: { _id: 1, createdAt: 1 } } as const;

function markOf(doc: Pick<CheckpointDoc, '_id' | 'createdAt'> | null): CheckpointMark | undefined {
  return doc ? { treeSize: doc._id, createdAt: doc.createdAt } : undefined;
}

export class MongoLogHeadRepository implements LogHeadRepository {
  private readonly heads: Collection<LogHeadDoc>;

  constructor(db: Db) {
    this.heads = db.collection<LogHeadDoc>(LOG_HEAD_COLLECTION.name);
  }

  async read(): Promise<LogHeadRecord | undefined> {
    const doc = await this.heads.findOne({ _id: HEAD_ID });
    if (!doc) return undefined;
    return {
      checkpoint: { treeSize: doc.size, rootHash: doc.rootHash, note: doc.note, createdAt: doc.signedAt },
      lastRecordedAt: doc.lastRecordedAt,
      pending: doc.pending ? { from: doc.pending.from, to: doc.pending.to } : null,
    };
  }

  /** A single-document compare-and-set on `size`: the fencing check of the lease. */
  async markPending(from: number, to: number): Promise<boolean> {
    const result = await this.heads.updateOne({ _id: HEAD_ID, size: from }, { $set: { pending: { from, to } } });
    return result.matchedCount === 1;
  }

  /**
   * Sizes only grow: the filter on `size` keeps a slower process from moving the head back,
   * and when it does not match, the upsert's duplicate `_id` stops it.
   */
  async advance(checkpoint: SignedCheckpoint, lastRecordedAt: number): Promise<void> {
    const fields = {
      size: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
      note: checkpoint.note,
      signedAt: checkpoint.createdAt,
      lastRecordedAt,
      pending: null,
    };
    assertMatchesSchema(LOG_HEAD_COLLECTION.name, LOG_HEAD_COLLECTION.schema, { _id: HEAD_ID, ...fields });
    try {
      await this.heads.updateOne({ _id: HEAD_ID, size: { $lte: checkpoint.treeSize } }, { $set: fields }, { upsert: true });
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
    }
  }
}

export class MongoCosignatureRepository implements CosignatureRepository {
  private readonly cosignatures: Collection<CosignatureDoc>;

  constructor(db: Db) {
    this.cosignatures = db.collection<CosignatureDoc>(COSIGNATURES_COLLECTION.name);
  }

  /**
   * One guarded single-document upsert: the filter on `treeSize` keeps a late answer about an
   * older checkpoint from replacing a newer one, and when it does not match, the upsert's
   * duplicate `_id` stops it.
   */
  async save(c: StoredCosignature): Promise<void> {
    const fields = { treeSize: c.treeSize, line: c.line };
    assertMatchesSchema(COSIGNATURES_COLLECTION.name, COSIGNATURES_COLLECTION.schema, { _id: c.witness, ...fields });
    try {
      await this.cosignatures.updateOne({ _id: c.witness, treeSize: { $lte: c.treeSize } }, { $set: fields }, { upsert: true });
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
    }
  }

  /** Reads the whole (tiny) collection: a filter on `treeSize` would be a scan on FerretDB v1 anyway. */
  async forTreeSize(treeSize: number): Promise<StoredCosignature[]> {
    const docs = await this.cosignatures.find({}).toArray();
    return docs
      .filter((d) => d.treeSize === treeSize)
      .map((d) => ({ witness: d._id, treeSize: d.treeSize, line: d.line }))
      .sort((a, b) => (a.witness < b.witness ? -1 : a.witness > b.witness ? 1 : 0));
  }
}

export class MongoIdempotencyRepository implements IdempotencyRepository {
  private readonly keys: Collection<IdempotencyDoc>;
  private readonly events: Collection<EventDoc>;

  constructor(db: Db) {
    this.keys = db.collection<IdempotencyDoc>(IDEMPOTENCY_COLLECTION.name);
    this.events = db.collection<EventDoc>(EVENTS_COLLECTION.name);
  }

  async lookup(keys: readonly string[]): Promise<Map<string, IdempotencyRecord>> {
    const unique = [...new Set(keys)];
    // One primary-key read per key: `$in` would be a scan on FerretDB v1.
    const found = await Promise.all(unique.map((key) => this.keys.findOne({ _id: key })));
    const records = await Promise.all(found.map((doc) => (doc ? this.recordOf(doc) : undefined)));
    return new Map(records.flatMap((r) => (r ? [[r.key, r] as const] : [])));
  }

  /** Re-remembering during recovery finds some keys already there: that is the point, they stay. */
  async remember(records: readonly IdempotencyRecord[]): Promise<void> {
    if (records.length === 0) return;
    const docs = records.map((r): IdempotencyDoc => {
      const doc = { _id: r.key, leafIndex: r.leafIndex, eventId: r.eventId, leafHash: binaryOf(r.leafHash), contentDigest: r.contentDigest };
      assertMatchesSchema(IDEMPOTENCY_COLLECTION.name, IDEMPOTENCY_COLLECTION.schema, doc);
      return doc;
    });
    try {
      await this.keys.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
    }
  }

  /**
   * Records written before the storage port hold the leaf index only: the event they point
   * at (a primary-key read) supplies the rest, and their content digest is unknown ('').
   */
  private async recordOf(doc: IdempotencyDoc): Promise<IdempotencyRecord | undefined> {
    if (doc.eventId !== undefined && doc.leafHash !== undefined) {
      return { key: doc._id, leafIndex: doc.leafIndex, eventId: doc.eventId, leafHash: bytesOf(doc.leafHash), contentDigest: doc.contentDigest ?? '' };
    }
    const event = await this.events.findOne({ _id: doc.leafIndex }, { projection: { id: 1, leafHash: 1 } });
    if (!event) return undefined;
    return { key: doc._id, leafIndex: doc.leafIndex, eventId: event.id, leafHash: bytesOf(event.leafHash), contentDigest: doc.contentDigest ?? '' };
  }
}

/**
 * The sequencer lease: one document changed only by single-document atomic updates. `token`
 * grows on every change of owner, so a holder that sees its token unchanged knows nobody else
 * appended in between. Correctness never rests on the lease alone: the unique leaf index
 * rejects a second writer.
 */
export class MongoLeaseRepository implements LeaseRepository {
  private readonly leases: Collection<LeaseDoc>;

  constructor(db: Db) {
    this.leases = db.collection<LeaseDoc>(LEASES_COLLECTION.name);
  }

  async acquire(owner: string, ttlMs: number): Promise<HeldLease | undefined> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlMs);
    assertFieldsMatchSchema(LEASES_COLLECTION.name, LEASES_COLLECTION.schema, { owner, expiresAt });
    const renewed = await this.leases.findOneAndUpdate({ _id: LEASE_ID, owner }, { $set: { expiresAt } }, { returnDocument: 'after' });
    if (renewed) {
      const wantedBy = renewed.wantedBy !== null && renewed.wantedBy !== undefined && renewed.wantedBy !== owner ? renewed.wantedBy : undefined;
      return { token: renewed.token, wantedBy };
    }
    const taken = await this.leases.findOneAndUpdate(
      { _id: LEASE_ID, expiresAt: { $lt: now } },
      { $set: { owner, expiresAt, wantedBy: null }, $inc: { token: 1 } },
      { returnDocument: 'after' },
    );
    if (taken) return { token: taken.token, wantedBy: undefined };
    try {
      await this.leases.insertOne({ _id: LEASE_ID, owner, token: 1, expiresAt, wantedBy: null });
      return { token: 1, wantedBy: undefined };
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
    }
    await this.leases.updateOne({ _id: LEASE_ID, owner: { $ne: owner } }, { $set: { wantedBy: owner } });
    return undefined;
  }

  /**
   * Handed to a waiting process, the lease changes owner and token at once (so the waiter
   * cannot be starved by our next batch); otherwise it just expires now and keeps its owner,
   * so that, untaken, our next acquire finds the same token and keeps its state.
   */
  async release(owner: string, ttlMs: number, handTo?: string): Promise<void> {
    if (handTo) {
      await this.leases.updateOne(
        { _id: LEASE_ID, owner },
        { $set: { owner: handTo, expiresAt: new Date(Date.now() + ttlMs), wantedBy: null }, $inc: { token: 1 } },
      );
    } else {
      await this.leases.updateOne({ _id: LEASE_ID, owner }, { $set: { expiresAt: new Date(0) } });
    }
  }
}
