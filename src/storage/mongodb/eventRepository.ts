/**
 * The `events` collection: one document per leaf, `_id` = leaf index. The unique `_id` is what
 * keeps the log append-only across processes (two sequencers can never both store a leaf at
 * one index), and the unique `idem` makes idempotent retries exact.
 *
 * FerretDB v1 has no multi-document transactions, so an append is an ordered `insertMany`: a
 * crash part-way leaves a contiguous prefix of the batch, which recovery replays (port.ts).
 */
import { BSON, type Collection, type Db } from 'mongodb';
import { LedgerError } from '../../errors';
import { DocumentValidationError, assertMatchesSchema } from './jsonSchema';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError } from '../errors';
import type {
  CompanionRecords,
  LifecycleStore,
  EventCount,
  EventCountKey,
  EventPageQuery,
  EventQuery,
  EventRepository,
  FlatEvent,
  IdempotencyRepository,
  StoredEvent,
} from '../port';
import { flatEvent } from '../flatEvent';
import { binaryOf, bytesOf, presentOnly, type EventDoc, EVENTS_COLLECTION, ownIdem } from './documents';
import { collidingField, duplicateKeyOf } from './driverErrors';
import { countPipeline, pageFind } from './eventQueries';

const MIB = 1024 * 1024;
/** MongoDB's document limit. */
const MAX_BSON_BYTES = 16 * MIB;
/** Room for the insert command around the document, which must fit the limit too. */
const DOCUMENT_HEADROOM = 16 * 1024;

/** The names the port gives the unique fields of an event. */
const EVENT_FIELD_NAMES: Readonly<Record<string, string>> = { id: 'id', idem: 'idempotencyKey' };

export class MongoEventRepository implements EventRepository {
  /** An event's leaf text is stored twice over (fields and `leaf`); 15 MiB leaves a margin below 16. */
  readonly maxEventBytes = 15 * MIB;
  private readonly events: Collection<EventDoc>;

  constructor(
    private readonly db: Db,
    private readonly idempotency: IdempotencyRepository,
    private readonly lifecycle: LifecycleStore,
  ) {
    this.events = db.collection<EventDoc>(EVENTS_COLLECTION.name);
  }

  async append(events: readonly StoredEvent[], companions?: CompanionRecords): Promise<void> {
    if (events.length === 0) return;
    const first = events[0]!.leafIndex;
    events.forEach((e, i) => {
      if (e.leafIndex !== first + i) throw new LedgerError('INTERNAL', `append: leaf ${e.leafIndex} does not follow leaf ${first + i - 1}`);
    });
    // Every document is checked before the first is written: a refused event fails the call
    // with nothing stored.
    const docs = events.map(checkedDoc);
    // No multi-document transaction here: the companions go first, so no stored event lacks them.
    if (companions) await this.lifecycle.put(companions.kind, companions.records);
    try {
      await this.events.insertMany(docs, { ordered: true });
    } catch (err) {
      throw await this.appendFailure(err, docs);
    }
    await this.idempotency.remember(
      events.flatMap((e) =>
        e.idempotencyKey === undefined
          ? []
          : [{ key: e.idempotencyKey, leafIndex: e.leafIndex, eventId: e.id, leafHash: e.leafHash, contentDigest: e.contentDigest ?? '' }],
      ),
    );
  }

  async range(from: number, to: number): Promise<StoredEvent[]> {
    if (to <= from) return [];
    const docs = await this.events.find({ _id: { $gte: from, $lt: to } }).sort({ _id: 1 }).toArray();
    return docs.map(storedEventOf);
  }

  async byLeafIndex(leafIndex: number): Promise<StoredEvent | undefined> {
    const doc = await this.events.findOne({ _id: leafIndex });
    return doc ? storedEventOf(doc) : undefined;
  }

  async byId(id: string): Promise<StoredEvent | undefined> {
    const doc = await this.events.findOne({ id });
    return doc ? storedEventOf(doc) : undefined;
  }

  async page(query: EventPageQuery): Promise<StoredEvent[]> {
    const find = pageFind(query);
    if (!find) return [];
    // No hint: the planner picks among the `…_leaf` indexes by the query's selectivity.
    const docs = await this.events.find(find.filter).sort(find.sort).limit(find.limit).toArray();
    return docs.map(storedEventOf);
  }

  async flatPage(query: EventPageQuery): Promise<FlatEvent[]> {
    return (await this.page(query)).map(flatEvent);
  }

  /** An aggregation the server runs, so the Node process never walks the rows. */
  async countBy(key: EventCountKey, query: EventQuery, treeSize: number): Promise<EventCount[]> {
    const pipeline = countPipeline(key, query, treeSize);
    if (!pipeline) return [];
    const rows = await this.events.aggregate<{ _id: unknown; count: number }>(pipeline).toArray();
    return rows.flatMap((r) => (r._id === null || r._id === undefined ? [] : [{ key: String(r._id), count: r.count }]));
  }

  estimatedCount(): Promise<number> {
    return this.events.estimatedDocumentCount();
  }

  /** The port's error for a failed insert: which document collided, and on which key. */
  private async appendFailure(err: unknown, docs: readonly EventDoc[]): Promise<unknown> {
    const duplicate = duplicateKeyOf(err, EVENTS_COLLECTION);
    if (!duplicate) return err;
    // Without a position (a single-document batch), the refused document is the only one.
    const refused = docs[duplicate.position ?? 0];
    if (!refused) return err;
    const field = await collidingField(this.db, EVENTS_COLLECTION, refused, duplicate);
    if (field === '_id') return new LeafIndexTakenError(refused._id, { cause: err });
    const name = field === undefined ? 'unknown' : (EVENT_FIELD_NAMES[field] ?? field);
    return new DuplicateKeyError(name, `event ${refused.id} at leaf ${refused._id}: its ${name} is already stored`, { cause: err });
  }
}

function checkedDoc(event: StoredEvent): EventDoc {
  const doc = eventDocOf(event);
  try {
    assertMatchesSchema(EVENTS_COLLECTION.name, EVENTS_COLLECTION.schema, doc);
  } catch (err) {
    if (err instanceof DocumentValidationError) {
      throw new EventRejectedError(`event ${event.id} cannot be stored: ${err.problems.join('; ')}`, { cause: err });
    }
    throw err;
  }
  const size = BSON.calculateObjectSize(doc);
  if (size > MAX_BSON_BYTES - DOCUMENT_HEADROOM) {
    throw new EventRejectedError(`event ${event.id} is too large to store: ${size} bytes as a document, at most ${MAX_BSON_BYTES - DOCUMENT_HEADROOM}`);
  }
  return doc;
}

function eventDocOf(e: StoredEvent): EventDoc {
  return {
    _id: e.leafIndex,
    id: e.id,
    action: e.action,
    actor: presentOnly({ id: e.actor.id, type: e.actor.type, name: e.actor.name }),
    ...(e.target && { target: presentOnly({ type: e.target.type, id: e.target.id, name: e.target.name }) }),
    outcome: e.outcome,
    ...(e.reason !== undefined && { reason: e.reason }),
    ...(e.occurredAt !== undefined && { occurredAt: e.occurredAt }),
    ...(e.source && { source: presentOnly({ ...e.source }) }),
    ...(e.metadata !== undefined && { metadata: e.metadata }),
    groups: [...e.groups],
    recordedAt: e.recordedAt,
    salt: e.salt,
    ...(e.submitter && { submitter: { keyId: e.submitter.keyId, userId: e.submitter.userId } }),
    leaf: e.leaf,
    leafHash: binaryOf(e.leafHash),
    idem: e.idempotencyKey ?? ownIdem(e.id),
    ...(e.contentDigest !== undefined && { contentDigest: e.contentDigest }),
  };
}

/** The record a document describes; absent (or null) optional fields are left out. */
function storedEventOf(doc: EventDoc): StoredEvent {
  return {
    leafIndex: doc._id,
    id: doc.id,
    action: doc.action,
    actor: presentOnly({ id: doc.actor.id, type: doc.actor.type, name: doc.actor.name }),
    ...(doc.target && { target: presentOnly({ type: doc.target.type, id: doc.target.id, name: doc.target.name }) }),
    outcome: doc.outcome,
    ...(isPresent(doc.reason) && { reason: doc.reason }),
    ...(isPresent(doc.occurredAt) && { occurredAt: doc.occurredAt }),
    ...(doc.source && { source: presentOnly({ ...doc.source }) }),
    ...(isPresent(doc.metadata) && { metadata: doc.metadata }),
    groups: doc.groups,
    recordedAt: doc.recordedAt,
    salt: doc.salt,
    ...(doc.submitter && { submitter: { keyId: doc.submitter.keyId, userId: doc.submitter.userId } }),
    leaf: doc.leaf,
    leafHash: bytesOf(doc.leafHash),
    ...(doc.idem !== ownIdem(doc.id) && { idempotencyKey: doc.idem }),
    ...(isPresent(doc.contentDigest) && { contentDigest: doc.contentDigest }),
  };
}

function isPresent<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}
