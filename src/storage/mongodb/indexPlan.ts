/**
 * Which index answers each query shape the adapter sends to MongoDB, as data: the explain
 * test (test/storage/mongodbExplain.test.ts) plans every entry on a real MongoDB and fails on
 * a collection scan or on an index not listed here, and the table doubles as documentation.
 *
 * `indexes` lists the acceptable indexes, the one built for the shape first. A second entry
 * appears only where the designed index cannot also give the leaf-index order (a range on
 * `action`, `recordedAt` or a partial target key followed by a sort on `_id`): there the
 * planner may rightly prefer walking `_id_` backwards with a filter, and both are index reads.
 *
 * Not listed: the directory's whole-collection listings (users, groups, API keys, oldest
 * first), which read every document by design; the directory stays small.
 *
 * On FerretDB v1 only the unique indexes exist and every query is a scan (collections.ts).
 */
import type { Document } from 'mongodb';
import type { EventCountKey, EventPageQuery, EventQuery } from '../port';
import {
  API_KEYS_COLLECTION,
  CHECKPOINTS_COLLECTION,
  EVENTS_COLLECTION,
  GROUPS_COLLECTION,
  IDEMPOTENCY_COLLECTION,
  LEASES_COLLECTION,
  LOG_HEAD_COLLECTION,
  STREAMS_COLLECTION,
  TILES_COLLECTION,
  USERS_COLLECTION,
} from './documents';

/** The values the sample queries ask for; the explain test seeds events carrying them. */
export const PLAN_SAMPLE = {
  actorId: 'actor-3',
  action: 'user.login',
  actionPrefix: 'user.role.',
  targetType: 'document',
  targetId: 'doc-7',
  groupIds: ['group-2', 'group-5'],
  from: new Date('2026-01-01T00:10:00.000Z'),
  to: new Date('2026-01-01T00:20:00.000Z'),
  treeSize: 1_000_000,
  limit: 50,
} as const;

/** The primary key's index, on every collection. */
export const PRIMARY_INDEX = '_id_';

interface Shape {
  /** What the query is for, in the ledger's words. */
  readonly name: string;
  /** Acceptable indexes, the designed one first. */
  readonly indexes: readonly string[];
}

export type QueryShape =
  | (Shape & { readonly kind: 'eventPage'; readonly query: EventPageQuery })
  | (Shape & { readonly kind: 'eventCount'; readonly key: EventCountKey; readonly query: EventQuery; readonly treeSize: number })
  | (Shape & { readonly kind: 'find'; readonly collection: string; readonly filter: Document; readonly sort?: Document; readonly limit?: number });

const S = PLAN_SAMPLE;
const page = (query: Omit<EventPageQuery, 'treeSize' | 'limit'>): EventPageQuery => ({
  treeSize: S.treeSize,
  limit: S.limit,
  newestFirst: true,
  ...query,
});

export const QUERY_PLAN: readonly QueryShape[] = [
  // Event pages (EventRepository.page): `_id < treeSize` plus the keyset bound, sorted by `_id`.
  { kind: 'eventPage', name: 'events, newest first', query: page({}), indexes: [PRIMARY_INDEX] },
  { kind: 'eventPage', name: 'events after a leaf, oldest first', query: page({ newestFirst: false, afterLeafIndex: 1000 }), indexes: [PRIMARY_INDEX] },
  { kind: 'eventPage', name: 'events by actor', query: page({ actorId: S.actorId }), indexes: ['actor_leaf'] },
  { kind: 'eventPage', name: 'events by actor, next page', query: page({ actorId: S.actorId, afterLeafIndex: 2000 }), indexes: ['actor_leaf'] },
  { kind: 'eventPage', name: 'events by action', query: page({ action: S.action }), indexes: ['action_leaf'] },
  { kind: 'eventPage', name: 'events by action prefix', query: page({ actionPrefix: S.actionPrefix }), indexes: ['action_leaf', PRIMARY_INDEX] },
  { kind: 'eventPage', name: 'events by target', query: page({ targetType: S.targetType, targetId: S.targetId }), indexes: ['target_leaf'] },
  { kind: 'eventPage', name: 'events by target type', query: page({ targetType: S.targetType }), indexes: ['target_leaf', PRIMARY_INDEX] },
  { kind: 'eventPage', name: 'events by outcome', query: page({ outcome: 'DENIED' }), indexes: ['outcome_leaf'] },
  { kind: 'eventPage', name: 'events of one group', query: page({ groupIds: [S.groupIds[0]] }), indexes: ['groups_leaf'] },
  { kind: 'eventPage', name: 'events of several groups', query: page({ groupIds: [...S.groupIds] }), indexes: ['groups_leaf'] },
  { kind: 'eventPage', name: 'events recorded in a time window', query: page({ from: S.from, to: S.to }), indexes: ['recorded_at_leaf', PRIMARY_INDEX] },
  { kind: 'eventPage', name: 'events by actor and action', query: page({ actorId: S.actorId, action: S.action }), indexes: ['actor_leaf', 'action_leaf'] },
  { kind: 'eventPage', name: "a reader's events by actor", query: page({ actorId: S.actorId, groupIds: [...S.groupIds] }), indexes: ['actor_leaf', 'groups_leaf'] },
  { kind: 'eventPage', name: "a reader's events by action", query: page({ action: S.action, groupIds: [S.groupIds[0]] }), indexes: ['groups_action_leaf'] },
  { kind: 'eventPage', name: "a reader's events by action, several groups", query: page({ action: S.action, groupIds: [...S.groupIds] }), indexes: ['groups_action_leaf'] },
  {
    kind: 'eventPage',
    name: "a reader's events by action in a time window",
    query: page({ action: S.action, groupIds: [S.groupIds[0]], from: S.from, to: S.to }),
    indexes: ['groups_action_leaf', 'recorded_at_leaf'],
  },
  // A prefix is a range on `action`, after which groups_action_leaf gives no leaf order: groups_leaf does.
  { kind: 'eventPage', name: "a reader's events by action prefix", query: page({ actionPrefix: S.actionPrefix, groupIds: [S.groupIds[0]] }), indexes: ['groups_leaf', 'groups_action_leaf'] },

  // Counts (EventRepository.countBy): the same `$match`, bounded by `_id < treeSize`.
  { kind: 'eventCount', name: 'count by action', key: 'action', query: {}, treeSize: S.treeSize, indexes: [PRIMARY_INDEX] },
  { kind: 'eventCount', name: 'count by outcome of an actor', key: 'outcome', query: { actorId: S.actorId }, treeSize: S.treeSize, indexes: ['actor_leaf'] },
  { kind: 'eventCount', name: 'count by actor within groups', key: 'actor.id', query: { groupIds: [...S.groupIds] }, treeSize: S.treeSize, indexes: ['groups_leaf'] },
  { kind: 'eventCount', name: 'count by outcome of an action within a group', key: 'outcome', query: { action: S.action, groupIds: [S.groupIds[0]] }, treeSize: S.treeSize, indexes: ['groups_action_leaf'] },
  { kind: 'eventCount', name: 'count by group within groups', key: 'groups', query: { groupIds: [...S.groupIds] }, treeSize: S.treeSize, indexes: ['groups_leaf'] },
  { kind: 'eventCount', name: 'count by action under a prefix', key: 'action', query: { actionPrefix: S.actionPrefix }, treeSize: S.treeSize, indexes: ['action_leaf', PRIMARY_INDEX] },

  // Event look-ups and the integrity walk.
  { kind: 'find', name: 'leaves [from, to) for replay', collection: EVENTS_COLLECTION.name, filter: { _id: { $gte: 100, $lt: 200 } }, sort: { _id: 1 }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'event by leaf index', collection: EVENTS_COLLECTION.name, filter: { _id: 42 }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'event by id', collection: EVENTS_COLLECTION.name, filter: { id: 'event-42' }, indexes: ['id_unique'] },
  { kind: 'find', name: 'every event in leaf order (verify-db)', collection: EVENTS_COLLECTION.name, filter: {}, sort: { _id: 1 }, indexes: [PRIMARY_INDEX] },

  // The log's small collections: by `_id` only.
  { kind: 'find', name: 'idempotency key', collection: IDEMPOTENCY_COLLECTION.name, filter: { _id: 'k:key-1:retry-1' }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'hash tile', collection: TILES_COLLECTION.name, filter: { _id: '0/3' }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'hash tiles ahead of the walk (verify-db)', collection: TILES_COLLECTION.name, filter: { _id: { $in: ['0/1', '0/2', '1/0'] } }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'log head', collection: LOG_HEAD_COLLECTION.name, filter: { _id: 'head' }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'lease renewal', collection: LEASES_COLLECTION.name, filter: { _id: 'sequencer', owner: 'process-1' }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'latest checkpoint (verify-db)', collection: CHECKPOINTS_COLLECTION.name, filter: { _id: { $gte: 0 } }, sort: { _id: -1 }, limit: 1, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'last checkpoint signed by an instant (size history)', collection: CHECKPOINTS_COLLECTION.name, filter: { createdAt: { $lte: S.to } }, sort: { createdAt: -1, _id: -1 }, limit: 1, indexes: ['created_at_size'] },
  { kind: 'find', name: 'first checkpoint signed (size history)', collection: CHECKPOINTS_COLLECTION.name, filter: { createdAt: { $gte: new Date(0) } }, sort: { createdAt: 1, _id: 1 }, limit: 1, indexes: ['created_at_size'] },
  { kind: 'find', name: 'checkpoints up to a size (verify-db)', collection: CHECKPOINTS_COLLECTION.name, filter: { _id: { $lte: 500 } }, sort: { _id: 1 }, indexes: [PRIMARY_INDEX] },

  // Stream records (webhook subscriptions, alert rules, cursors, the delivery lease): by `_id` only.
  { kind: 'find', name: 'stream record', collection: STREAMS_COLLECTION.name, filter: { _id: 'subscription:wh-1' }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'stream records of a kind', collection: STREAMS_COLLECTION.name, filter: { _id: { $gt: 'subscription:', $lt: 'subscription;' } }, sort: { _id: 1 }, limit: 100, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'stream record compare-and-set', collection: STREAMS_COLLECTION.name, filter: { _id: 'cursor:alerts', version: 7 }, indexes: [PRIMARY_INDEX] },

  // The directory.
  { kind: 'find', name: 'users by id', collection: USERS_COLLECTION.name, filter: { _id: { $in: ['user-1', 'user-2'] } }, indexes: [PRIMARY_INDEX] },
  { kind: 'find', name: 'users by external id', collection: USERS_COLLECTION.name, filter: { externalId: { $in: ['ext-1', 'ext-2'] } }, indexes: ['external_id'] },
  { kind: 'find', name: 'group by name', collection: GROUPS_COLLECTION.name, filter: { nameKey: 'group 2' }, indexes: ['name_key_unique'] },
  { kind: 'find', name: 'groups of users', collection: GROUPS_COLLECTION.name, filter: { members: { $in: ['user-1', 'user-2'] } }, indexes: ['members'] },
  { kind: 'find', name: 'API key by token hash', collection: API_KEYS_COLLECTION.name, filter: { tokenHash: 'a'.repeat(64) }, indexes: ['token_hash_unique'] },
  { kind: 'find', name: 'active ADMIN keys', collection: API_KEYS_COLLECTION.name, filter: { roles: 'ADMIN', revokedAt: null }, sort: { createdAt: 1, _id: 1 }, indexes: ['roles_1'] },
];
