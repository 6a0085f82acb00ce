/**
 * The `events` collection: one document per leaf, `_id` = leaf index. The unique `_id` is
 * what makes the log append-only across processes: two sequencers can never both store a
 * leaf at one index, and the unique `idem` index makes idempotent retries exact.
 */
import { Binary, type Collection, type Document, type Filter, type Sort } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';
import { assertMatchesSchema } from '../db/jsonSchema';
import { type Actor, type ActorType, eventLeaf, type JsonObject, type LoggedEvent, type Outcome, type Source, type Target } from '../event/eventRecord';

export interface EventDoc {
  _id: number;
  id: string;
  action: string;
  actor: { id: string; type: ActorType; name?: string };
  target?: Target;
  outcome: Outcome;
  reason?: string;
  occurredAt?: Date;
  source?: Source;
  /** Canonical JSON text: metadata keys may hold characters the engine cannot store as keys. */
  metadata?: string;
  groups: string[];
  recordedAt: Date;
  salt: string;
  leaf: string;
  leafHash: Binary;
  /** Idempotency scope: `k:<credential>:<key>` for client keys, else `id:<event id>`. */
  idem: string;
}

const text = { bsonType: 'string' } as const;
export const EVENTS_COLLECTION: CollectionDefinition = {
  name: 'events',
  schema: {
    bsonType: 'object',
    required: ['_id', 'id', 'action', 'actor', 'outcome', 'groups', 'recordedAt', 'salt', 'leaf', 'leafHash', 'idem'],
    properties: {
      _id: { bsonType: ['int', 'long'], minimum: 0 },
      id: text,
      action: text,
      actor: { bsonType: 'object', required: ['id', 'type'], properties: { id: text, type: { enum: ['USER', 'SERVICE', 'SYSTEM'] }, name: text } },
      target: { bsonType: 'object', required: ['type', 'id'], properties: { type: text, id: text, name: text } },
      outcome: { enum: ['SUCCESS', 'FAILURE', 'DENIED'] },
      reason: text,
      occurredAt: { bsonType: 'date' },
      source: { bsonType: 'object' },
      metadata: text,
      groups: { bsonType: 'array', items: text },
      recordedAt: { bsonType: 'date' },
      salt: { bsonType: 'string', pattern: '^[0-9a-f]{32}$' },
      leaf: text,
      leafHash: { bsonType: 'binData' },
      idem: text,
    },
  },
  indexes: [
    { key: { id: 1 }, options: { unique: true, name: 'id_unique' } },
    { key: { idem: 1 }, options: { unique: true, name: 'idem_unique' } },
    { key: { 'actor.id': 1, _id: 1 }, options: { name: 'actor_leaf' } },
    { key: { action: 1, _id: 1 }, options: { name: 'action_leaf' } },
    { key: { 'target.type': 1, 'target.id': 1, _id: 1 }, options: { name: 'target_leaf' } },
    { key: { groups: 1, _id: 1 }, options: { name: 'groups_leaf' } },
    { key: { recordedAt: 1 }, options: { name: 'recorded_at' } },
  ],
};

/** The logged event a stored document describes (the inverse of how the sequencer stores it). */
export function eventOfDoc(doc: Omit<EventDoc, 'leaf' | 'leafHash' | 'idem' | '_id'>): LoggedEvent {
  return {
    id: doc.id,
    action: doc.action,
    actor: doc.actor,
    ...(doc.target && { target: doc.target }),
    outcome: doc.outcome,
    ...(doc.reason !== undefined && { reason: doc.reason }),
    ...(doc.occurredAt && { occurredAt: doc.occurredAt.toISOString() }),
    ...(doc.source && { source: doc.source }),
    ...(doc.metadata !== undefined && { metadata: JSON.parse(doc.metadata) as JsonObject }),
    groups: doc.groups,
    recordedAt: doc.recordedAt.toISOString(),
    salt: doc.salt,
  };
}

/**
 * The canonical leaf of a stored document, recomputed from its fields: `verify-db` compares it
 * with the stored `leaf` and `leafHash`, so an edit to any field is caught.
 */
export function leafOfDoc(doc: Omit<EventDoc, 'leaf' | 'leafHash' | 'idem' | '_id'>): string {
  return eventLeaf(eventOfDoc(doc));
}

export interface EventQuery {
  readonly actorId?: string;
  readonly action?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly outcome?: Outcome;
  readonly from?: Date;
  readonly to?: Date;
  readonly groupIds?: readonly string[];
  /** Exclusive leaf-index bound for keyset pagination, in the direction of `newestFirst`. */
  readonly afterLeafIndex?: number;
  readonly newestFirst?: boolean;
  readonly limit: number;
}

export type EventCountKey = 'groups' | 'action' | 'actor.id' | 'outcome';

function eventFilter(q: Omit<EventQuery, 'limit'>): Filter<EventDoc> {
  const filter: Filter<EventDoc> = {};
  if (q.actorId !== undefined) filter['actor.id'] = q.actorId;
  if (q.action !== undefined) filter.action = q.action;
  if (q.targetType !== undefined) filter['target.type'] = q.targetType;
  if (q.targetId !== undefined) filter['target.id'] = q.targetId;
  if (q.outcome !== undefined) filter.outcome = q.outcome;
  if (q.from !== undefined || q.to !== undefined) {
    filter.recordedAt = { ...(q.from && { $gte: q.from }), ...(q.to && { $lt: q.to }) };
  }
  if (q.groupIds !== undefined) filter.groups = { $in: [...q.groupIds] };
  if (q.afterLeafIndex !== undefined) filter._id = q.newestFirst ? { $lt: q.afterLeafIndex } : { $gt: q.afterLeafIndex };
  return filter;
}

export class EventStore {
  constructor(readonly events: Collection<EventDoc>) {}

  /** Inserts in order; a crash part-way leaves a contiguous prefix of the batch. */
  async insertBatch(docs: readonly EventDoc[]): Promise<void> {
    if (docs.length === 0) return;
    for (const doc of docs) assertMatchesSchema(EVENTS_COLLECTION.name, EVENTS_COLLECTION.schema, doc);
    await this.events.insertMany([...docs], { ordered: true });
  }

  /** Leaves [from, to) in order, for replay after a crash. */
  range(from: number, to: number): AsyncIterable<EventDoc> {
    return this.events.find({ _id: { $gte: from, $lt: to } }).sort({ _id: 1 });
  }

  byLeafIndex(leafIndex: number): Promise<EventDoc | null> {
    return this.events.findOne({ _id: leafIndex });
  }

  byId(id: string): Promise<EventDoc | null> {
    return this.events.findOne({ id });
  }

  async query(q: EventQuery): Promise<EventDoc[]> {
    const filter = eventFilter(q);
    const sort: Sort = { _id: q.newestFirst ? -1 : 1 };
    return this.events.find(filter).sort(sort).limit(q.limit).toArray();
  }

  /**
   * Event counts per value of `key` among the first `size` leaves matching the query. An
   * event counts once under each of its groups; with a group filter only those groups are keys.
   * ($match, $unwind, $group and $sort are all FerretDB v1 stages.)
   */
  async countBy(key: EventCountKey, q: Omit<EventQuery, 'limit' | 'afterLeafIndex' | 'newestFirst'>, size: number): Promise<{ key: string; count: number }[]> {
    const match: Filter<EventDoc> = { ...eventFilter(q), _id: { $lt: size } };
    const pipeline: Document[] = [{ $match: match }];
    if (key === 'groups') {
      pipeline.push({ $unwind: '$groups' });
      if (q.groupIds !== undefined) pipeline.push({ $match: { groups: { $in: [...q.groupIds] } } });
    }
    pipeline.push({ $group: { _id: `$${key}`, count: { $sum: 1 } } }, { $sort: { count: -1, _id: 1 } });
    const rows = await this.events.aggregate<{ _id: string; count: number }>(pipeline).toArray();
    return rows.map((r) => ({ key: String(r._id), count: r.count }));
  }
}

export type { Actor };
