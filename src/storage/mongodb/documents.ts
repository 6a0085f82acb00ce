/**
 * The documents the MongoDB adapter stores, and each collection's `$jsonSchema` and indexes.
 * These shapes (`_id`, `Binary`) stay inside `storage/mongodb`: the rest of the ledger sees
 * the port's records only. The shapes are those the ledger wrote before the storage port, so
 * an existing database opens as it is; fields added since are optional.
 *
 * Index notes: every event query shape ends its compound index in `_id` (the leaf index), so a
 * filtered page is one bounded index range read in leaf order (see indexPlan.ts). On FerretDB
 * v1 only the unique indexes are created (collections.ts explains why).
 */
import { Binary } from 'mongodb';
import { ROLES, type Role } from '../../auth/role';
import type { ActorType, Outcome, Source } from '../../event/eventRecord';
import type { UserStatus, UserType } from '../port';
import type { CollectionDefinition } from './collections';
import type { JsonSchema } from './jsonSchema';

/** The largest tile width: 2^8 hashes (C2SP tlog-tiles). */
const TILE_WIDTH = 256;

/**
 * The bytes of a stored Binary, copied into a plain Uint8Array: the driver's bytes are a view
 * into the whole reply they came in, which a long-lived record would otherwise keep alive.
 */
export function bytesOf(binary: Binary): Uint8Array {
  return new Uint8Array(binary.buffer);
}

export function binaryOf(bytes: Uint8Array): Binary {
  return new Binary(bytes);
}

/**
 * The object without its keys that hold undefined or null: optional fields are absent, never
 * null (the driver would store an undefined as null, and old documents may hold such nulls).
 */
export function presentOnly<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null)) as T;
}

const text = { bsonType: 'string' } as const;
// The driver writes a JS integer of 2^31 or more as a double: a log past two billion leaves must still validate.
const leafPosition: JsonSchema = { bsonType: ['int', 'long', 'double'], minimum: 0 };

// ---------------------------------------------------------------------------------------
// Events

export interface EventDoc {
  /** The leaf index. */
  _id: number;
  id: string;
  action: string;
  actor: { id: string; type: ActorType; name?: string };
  target?: { type: string; id: string; name?: string };
  outcome: Outcome;
  reason?: string;
  occurredAt?: Date;
  source?: Source;
  /** Canonical JSON text: metadata keys may hold characters the engine cannot store as keys. */
  metadata?: string;
  groups: string[];
  recordedAt: Date;
  salt: string;
  submitter?: { keyId: string; userId: string };
  leaf: string;
  leafHash: Binary;
  /** Idempotency scope, unique: the caller-scoped key when there is one, else `id:<event id>`. */
  idem: string;
  contentDigest?: string;
}

export const EVENTS_COLLECTION: CollectionDefinition = {
  name: 'events',
  schema: {
    bsonType: 'object',
    required: ['_id', 'id', 'action', 'actor', 'outcome', 'groups', 'recordedAt', 'salt', 'leaf', 'leafHash', 'idem'],
    properties: {
      _id: leafPosition,
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
      submitter: { bsonType: 'object', required: ['keyId', 'userId'], properties: { keyId: text, userId: text } },
      leaf: text,
      leafHash: { bsonType: 'binData' },
      idem: text,
      contentDigest: text,
    },
  },
  indexes: [
    { key: { id: 1 }, options: { unique: true, name: 'id_unique' } },
    { key: { idem: 1 }, options: { unique: true, name: 'idem_unique' } },
    { key: { 'actor.id': 1, _id: 1 }, options: { name: 'actor_leaf' } },
    { key: { action: 1, _id: 1 }, options: { name: 'action_leaf' } },
    { key: { 'target.type': 1, 'target.id': 1, _id: 1 }, options: { name: 'target_leaf' } },
    { key: { outcome: 1, _id: 1 }, options: { name: 'outcome_leaf' } },
    { key: { groups: 1, _id: 1 }, options: { name: 'groups_leaf' } },
    // A reader's events of one action: the group's matches in leaf order, without fetching the
    // group's other events to test their action (groups_leaf alone would).
    { key: { groups: 1, action: 1, _id: 1 }, options: { name: 'groups_action_leaf' } },
    { key: { recordedAt: 1, _id: 1 }, options: { name: 'recorded_at_leaf' } },
  ],
};

/** Where `idem` holds no client key: the event's own id keeps the unique index satisfied. */
export const ownIdem = (eventId: string): string => `id:${eventId}`;

// ---------------------------------------------------------------------------------------
// Idempotency keys: `_id` = the caller-scoped key; a primary-key read on every engine

export interface IdempotencyDoc {
  _id: string;
  leafIndex: number;
  /** Absent on records written before the storage port (recovered from the event then). */
  eventId?: string;
  leafHash?: Binary;
  contentDigest?: string;
}

export const IDEMPOTENCY_COLLECTION: CollectionDefinition = {
  name: 'idempotencyKeys',
  schema: {
    bsonType: 'object',
    required: ['_id', 'leafIndex'],
    properties: {
      _id: text,
      leafIndex: leafPosition,
      eventId: text,
      leafHash: { bsonType: 'binData' },
      contentDigest: text,
    },
  },
  indexes: [],
};

// ---------------------------------------------------------------------------------------
// Hash tiles: `_id` = `L/N`

export interface TileDoc {
  _id: string;
  level: number;
  index: number;
  width: number;
  /** `width` concatenated 32-byte hashes. */
  hashes: Binary;
}

export const TILES_COLLECTION: CollectionDefinition = {
  name: 'tiles',
  schema: {
    bsonType: 'object',
    required: ['_id', 'level', 'index', 'width', 'hashes'],
    properties: {
      _id: text,
      level: { bsonType: ['int', 'long'], minimum: 0, maximum: 8 },
      index: { bsonType: ['int', 'long'], minimum: 0 },
      width: { bsonType: ['int', 'long'], minimum: 1, maximum: TILE_WIDTH },
      hashes: { bsonType: 'binData' },
    },
  },
  indexes: [],
};

export const tileKey = (level: number, index: number): string => `${level}/${index}`;

// ---------------------------------------------------------------------------------------
// Checkpoints: `_id` = tree size

export interface CheckpointDoc {
  _id: number;
  rootHash: string;
  note: string;
  createdAt: Date;
}

const rootHash: JsonSchema = { bsonType: 'string', pattern: '^[0-9a-f]{64}$' };

export const CHECKPOINTS_COLLECTION: CollectionDefinition = {
  name: 'checkpoints',
  schema: {
    bsonType: 'object',
    required: ['_id', 'rootHash', 'note', 'createdAt'],
    properties: { _id: leafPosition, rootHash, note: text, createdAt: { bsonType: 'date' } },
  },
  // The size history: the last checkpoint signed by an instant, ties by size.
  indexes: [{ key: { createdAt: 1, _id: 1 }, options: { name: 'created_at_size' } }],
};

// ---------------------------------------------------------------------------------------
// The log head: one document, so the hot path is O(1) on an engine that scans every query

export const HEAD_ID = 'head';

export interface LogHeadDoc {
  _id: typeof HEAD_ID;
  size: number;
  rootHash: string;
  note: string;
  signedAt: Date;
  lastRecordedAt: number;
  pending: { from: number; to: number } | null;
}

export const LOG_HEAD_COLLECTION: CollectionDefinition = {
  name: 'logHead',
  schema: {
    bsonType: 'object',
    required: ['_id', 'size', 'rootHash', 'note', 'signedAt', 'lastRecordedAt', 'pending'],
    properties: {
      _id: { enum: [HEAD_ID] },
      size: leafPosition,
      rootHash,
      note: text,
      signedAt: { bsonType: 'date' },
      lastRecordedAt: { bsonType: ['int', 'long', 'double'], minimum: 0 },
      pending: { bsonType: ['object', 'null'] },
    },
  },
  indexes: [],
};

// ---------------------------------------------------------------------------------------
// Witness cosignatures: one document per witness (a handful), its newest cosignature

export interface CosignatureDoc {
  /** The witness's key ID, 8 lowercase hex digits. */
  _id: string;
  treeSize: number;
  line: string;
}

export const COSIGNATURES_COLLECTION: CollectionDefinition = {
  name: 'cosignatures',
  schema: {
    bsonType: 'object',
    required: ['_id', 'treeSize', 'line'],
    properties: {
      _id: { bsonType: 'string', pattern: '^[0-9a-f]{8}$' },
      treeSize: leafPosition,
      line: text,
    },
  },
  indexes: [],
};

// ---------------------------------------------------------------------------------------
// The sequencer lease: one document

export const LEASE_ID = 'sequencer';

export interface LeaseDoc {
  _id: string;
  owner: string;
  token: number;
  expiresAt: Date;
  wantedBy: string | null;
}

export const LEASES_COLLECTION: CollectionDefinition = {
  name: 'leases',
  schema: {
    bsonType: 'object',
    required: ['_id', 'owner', 'token', 'expiresAt'],
    properties: {
      _id: text,
      owner: text,
      token: { bsonType: ['int', 'long'] },
      expiresAt: { bsonType: 'date' },
      wantedBy: { bsonType: ['string', 'null'] },
    },
  },
  indexes: [],
};

// ---------------------------------------------------------------------------------------
// The directory

export interface UserDoc {
  _id: string;
  name: string;
  type: UserType;
  externalId: string | null;
  status: UserStatus;
  createdAt: Date;
  updatedAt: Date;
}

export const USERS_COLLECTION: CollectionDefinition = {
  name: 'users',
  schema: {
    bsonType: 'object',
    required: ['_id', 'name', 'type', 'externalId', 'status', 'createdAt', 'updatedAt'],
    properties: {
      _id: text,
      name: { bsonType: 'string', minLength: 1, maxLength: 128 },
      type: { enum: ['HUMAN', 'SERVICE'] },
      externalId: { bsonType: ['string', 'null'], maxLength: 256 },
      status: { enum: ['ACTIVE', 'DISABLED'] },
      createdAt: { bsonType: 'date' },
      updatedAt: { bsonType: 'date' },
    },
  },
  indexes: [{ key: { externalId: 1 }, options: { name: 'external_id' } }],
};

export interface GroupDoc {
  _id: string;
  name: string;
  nameKey: string;
  description: string | null;
  /** Members on the group document: adding or removing one is a single-document atomic update. */
  members: string[];
  createdAt: Date;
}

export const GROUPS_COLLECTION: CollectionDefinition = {
  name: 'groups',
  schema: {
    bsonType: 'object',
    required: ['_id', 'name', 'nameKey', 'description', 'members', 'createdAt'],
    properties: {
      _id: text,
      name: { bsonType: 'string', minLength: 1, maxLength: 128 },
      nameKey: { bsonType: 'string', minLength: 1, maxLength: 128 },
      description: { bsonType: ['string', 'null'], maxLength: 1024 },
      members: { bsonType: 'array', items: text },
      createdAt: { bsonType: 'date' },
    },
  },
  // The unique name index is what settles two concurrent creations of one name.
  indexes: [
    { key: { nameKey: 1 }, options: { unique: true, name: 'name_key_unique' } },
    { key: { members: 1 }, options: { name: 'members' } },
  ],
};

export interface ApiKeyDoc {
  _id: string;
  name: string;
  roles: Role[];
  userId: string;
  groupIds: string[];
  tokenHash: string;
  createdAt: Date;
  /** Absent on keys written by early versions: read as null. */
  createdBy?: string | null;
  revokedAt?: Date | null;
}

export const API_KEYS_COLLECTION: CollectionDefinition = {
  name: 'apiKeys',
  schema: {
    bsonType: 'object',
    required: ['_id', 'name', 'roles', 'userId', 'groupIds', 'tokenHash', 'createdAt'],
    properties: {
      _id: text,
      name: { bsonType: 'string', minLength: 1, maxLength: 128 },
      roles: { bsonType: 'array', minItems: 1, items: { enum: [...ROLES] } },
      userId: text,
      groupIds: { bsonType: 'array', items: text },
      tokenHash: { bsonType: 'string', pattern: '^[0-9a-f]{64}$' },
      createdAt: { bsonType: 'date' },
      createdBy: { bsonType: ['string', 'null'] },
      revokedAt: { bsonType: ['date', 'null'] },
    },
  },
  indexes: [
    { key: { tokenHash: 1 }, options: { unique: true, name: 'token_hash_unique' } },
    { key: { roles: 1 }, options: { name: 'roles_1' } },
    { key: { userId: 1 }, options: { name: 'userId_1' } },
  ],
};

// ---------------------------------------------------------------------------------------
// The marker that says "this database holds a ledger"

export const FORMAT_ID = 'format';
export const FORMAT_NAME = 'audit-ledger';
export const SCHEMA_VERSION = 1;

export interface MetaDoc {
  _id: string;
  value: string;
  schemaVersion: number;
}

export const META_COLLECTION: CollectionDefinition = {
  name: 'meta',
  schema: {
    bsonType: 'object',
    required: ['_id', 'value', 'schemaVersion'],
    properties: { _id: text, value: text, schemaVersion: { bsonType: ['int', 'long'], minimum: 1 } },
  },
  indexes: [],
};

// ---------------------------------------------------------------------------------------
// Lifecycle records (storage/mongodb/lifecycleStore.ts): `_id` = `<kind>:<id>`

export interface LifecycleDoc {
  _id: string;
  kind: string;
  /** JSON text written by src/lifecycle/. */
  value: string;
  /** On the `changes:<kind>` documents only: the change count of that kind (lifecycleStore.ts). */
  n?: number;
}

export const LIFECYCLE_COLLECTION: CollectionDefinition = {
  name: 'lifecycle',
  schema: {
    bsonType: 'object',
    required: ['_id', 'kind', 'value'],
    properties: { _id: text, kind: text, value: { bsonType: 'string' }, n: { bsonType: ['int', 'long', 'double'] } },
  },
  indexes: [],
};

// ---------------------------------------------------------------------------------------
// Stream records (storage/mongodb/streamStore.ts): `_id` = `<kind>:<id>`, versioned

export interface StreamDoc {
  _id: string;
  kind: string;
  /** JSON text written by src/stream/. */
  value: string;
  /** Compare-and-set version: 1 when inserted, +1 on every update. */
  version: number;
}

export const STREAMS_COLLECTION: CollectionDefinition = {
  name: 'streams',
  schema: {
    bsonType: 'object',
    required: ['_id', 'kind', 'value', 'version'],
    properties: { _id: text, kind: text, value: { bsonType: 'string' }, version: { bsonType: ['int', 'long', 'double'], minimum: 1 } },
  },
  indexes: [],
};

/** Every collection, in the order they are created. */
export const ALL_COLLECTIONS: readonly CollectionDefinition[] = [
  META_COLLECTION,
  EVENTS_COLLECTION,
  IDEMPOTENCY_COLLECTION,
  TILES_COLLECTION,
  CHECKPOINTS_COLLECTION,
  LOG_HEAD_COLLECTION,
  COSIGNATURES_COLLECTION,
  LEASES_COLLECTION,
  USERS_COLLECTION,
  GROUPS_COLLECTION,
  API_KEYS_COLLECTION,
  LIFECYCLE_COLLECTION,
  STREAMS_COLLECTION,
];
