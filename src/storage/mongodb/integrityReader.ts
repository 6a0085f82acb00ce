/**
 * verify-db's raw reads: documents as found, with nothing validated or coerced, because the
 * check must see what an operator may have edited (a string `_id`, a changed field, a damaged
 * tile). Events stream in cursor batches, so memory stays flat however long the log.
 */
import { Binary, type Collection, type Db } from 'mongodb';
import type { IntegrityReader, RawCheckpoint, RawStoredEvent, RawTile } from '../port';
import { bytesOf, CHECKPOINTS_COLLECTION, EVENTS_COLLECTION, TILES_COLLECTION } from './documents';
import { translateDriverError } from './driverErrors';

/**
 * Untyped on purpose: nothing read here is trusted to have the stored shape. (`_id` is typed
 * for the filters that bound it; what comes back is passed on as `unknown`.)
 */
interface RawDoc {
  _id: number | string;
  [field: string]: unknown;
}

/** A tile whose stored fields are not the shape of a tile: an impossible position, so verify-db names it damaged. */
const UNREADABLE_POSITION = -1;

export class MongoIntegrityReader implements IntegrityReader {
  private readonly eventDocs: Collection<RawDoc>;
  private readonly checkpointDocs: Collection<RawDoc>;
  private readonly tileDocs: Collection<RawDoc>;

  constructor(db: Db) {
    this.eventDocs = db.collection<RawDoc>(EVENTS_COLLECTION.name);
    this.checkpointDocs = db.collection<RawDoc>(CHECKPOINTS_COLLECTION.name);
    this.tileDocs = db.collection<RawDoc>(TILES_COLLECTION.name);
  }

  async *events(batchSize: number): AsyncIterable<RawStoredEvent[]> {
    const cursor = this.eventDocs
      .find({}, { projection: { idem: 0, contentDigest: 0 } })
      .sort({ _id: 1 })
      .batchSize(batchSize);
    try {
      // Whole driver batches at a time: one await per batch rather than one per document.
      while (await cursor.hasNext()) yield cursor.readBufferedDocuments().map(rawEventOf);
    } catch (err) {
      throw translateDriverError(err);
    } finally {
      await cursor.close();
    }
  }

  async latestCheckpoint(): Promise<RawCheckpoint | undefined> {
    // Numbers only: a document with a string `_id` would sort last and pose as the latest.
    const doc = await this.checkpointDocs.find({ _id: { $gte: 0 } }).sort({ _id: -1 }).limit(1).next();
    return doc ? rawCheckpointOf(doc) : undefined;
  }

  async *checkpoints(maxSize: number): AsyncIterable<RawCheckpoint> {
    const cursor = this.checkpointDocs.find({ _id: { $lte: maxSize } }).sort({ _id: 1 }).batchSize(1000);
    try {
      for await (const doc of cursor) yield rawCheckpointOf(doc);
    } catch (err) {
      throw translateDriverError(err);
    } finally {
      await cursor.close();
    }
  }

  /** One `$in` per chunk of ids: the walk asks for dozens at a time, ahead of need. */
  async tiles(ids: readonly string[]): Promise<RawTile[]> {
    if (ids.length === 0) return [];
    const docs = await this.tileDocs.find({ _id: { $in: [...ids] } }, { projection: { level: 1, index: 1, hashes: 1 } }).toArray();
    return docs.map(rawTileOf);
  }
}

function rawEventOf(doc: RawDoc): RawStoredEvent {
  const { _id: position, idem: _idem, contentDigest: _digest, ...fields } = doc;
  const leafHash: unknown = fields.leafHash;
  return { position, fields: leafHash instanceof Binary ? { ...fields, leafHash: bytesOf(leafHash) } : fields };
}

function rawCheckpointOf(doc: RawDoc): RawCheckpoint {
  return { treeSize: doc._id, rootHash: doc.rootHash, note: doc.note };
}

function rawTileOf(doc: RawDoc): RawTile {
  const { _id: id, level, index, hashes } = doc;
  const shaped = typeof level === 'number' && typeof index === 'number' && hashes instanceof Binary;
  return {
    id: String(id),
    level: shaped ? level : UNREADABLE_POSITION,
    index: shaped ? index : UNREADABLE_POSITION,
    hashes: hashes instanceof Binary ? bytesOf(hashes) : new Uint8Array(0),
  };
}
