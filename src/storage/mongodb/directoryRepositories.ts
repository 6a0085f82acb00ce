/**
 * The directory: users, groups and API keys. Unique indexes (`_id`, `nameKey`, `tokenHash`)
 * settle concurrent creations; group membership lives on the group document, so adding or
 * removing a member is one single-document atomic update on an engine without transactions.
 */
import type { Collection, Db } from 'mongodb';
import { DuplicateKeyError } from '../errors';
import type {
  ApiKeyRecord,
  ApiKeyRepository,
  GroupRecord,
  GroupRepository,
  UserRecord,
  UserRepository,
  UserStatus,
} from '../port';
import type { CollectionDefinition } from './collections';
import {
  API_KEYS_COLLECTION,
  type ApiKeyDoc,
  type GroupDoc,
  GROUPS_COLLECTION,
  type UserDoc,
  USERS_COLLECTION,
} from './documents';
import { collidingField, duplicateKeyOf, portFieldName } from './driverErrors';
import { assertFieldsMatchSchema, assertMatchesSchema } from './jsonSchema';

/** Inserts a validated document; a unique-key collision becomes a DuplicateKeyError naming the port's field. */
async function insertUnique<T extends { _id: string }>(db: Db, definition: CollectionDefinition, doc: T, what: string): Promise<void> {
  assertMatchesSchema(definition.name, definition.schema, doc);
  try {
    await db.collection<{ _id: string }>(definition.name).insertOne(doc);
  } catch (err) {
    const duplicate = duplicateKeyOf(err, definition);
    if (!duplicate) throw err;
    const field = portFieldName(await collidingField(db, definition, doc, duplicate));
    throw new DuplicateKeyError(field, `${what} ${doc._id}: its ${field} is already taken`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------

export class MongoUserRepository implements UserRepository {
  private readonly users: Collection<UserDoc>;

  constructor(private readonly db: Db) {
    this.users = db.collection<UserDoc>(USERS_COLLECTION.name);
  }

  insert(user: UserRecord): Promise<void> {
    const doc: UserDoc = {
      _id: user.id,
      name: user.name,
      type: user.type,
      externalId: user.externalId,
      status: user.status,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
    };
    return insertUnique(this.db, USERS_COLLECTION, doc, 'user');
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    const doc = await this.users.findOne({ _id: id });
    return doc ? userOf(doc) : undefined;
  }

  async byIds(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    return (await this.users.find({ _id: { $in: [...new Set(ids)] } }).toArray()).map(userOf);
  }

  async byExternalIds(externalIds: readonly string[]): Promise<UserRecord[]> {
    if (externalIds.length === 0) return [];
    return (await this.users.find({ externalId: { $in: [...new Set(externalIds)] } }).toArray()).map(userOf);
  }

  async update(id: string, change: { name: string; status: UserStatus; updatedAt: Date }): Promise<void> {
    const fields = { name: change.name, status: change.status, updatedAt: change.updatedAt };
    assertFieldsMatchSchema(USERS_COLLECTION.name, USERS_COLLECTION.schema, fields);
    await this.users.updateOne({ _id: id }, { $set: fields });
  }

  async list(): Promise<UserRecord[]> {
    return (await this.users.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(userOf);
  }
}

function userOf(doc: UserDoc): UserRecord {
  return {
    id: doc._id,
    name: doc.name,
    type: doc.type,
    externalId: doc.externalId ?? null,
    status: doc.status,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

// ---------------------------------------------------------------------------------------

export class MongoGroupRepository implements GroupRepository {
  private readonly groups: Collection<GroupDoc>;

  constructor(private readonly db: Db) {
    this.groups = db.collection<GroupDoc>(GROUPS_COLLECTION.name);
  }

  insert(group: GroupRecord): Promise<void> {
    const doc: GroupDoc = {
      _id: group.id,
      name: group.name,
      nameKey: group.nameKey,
      description: group.description,
      members: [...group.members],
      createdAt: group.createdAt,
    };
    return insertUnique(this.db, GROUPS_COLLECTION, doc, 'group');
  }

  async byId(id: string): Promise<GroupRecord | undefined> {
    const doc = await this.groups.findOne({ _id: id });
    return doc ? groupOf(doc) : undefined;
  }

  async byNameKey(nameKey: string): Promise<GroupRecord | undefined> {
    const doc = await this.groups.findOne({ nameKey });
    return doc ? groupOf(doc) : undefined;
  }

  async byIds(ids: readonly string[]): Promise<GroupRecord[]> {
    if (ids.length === 0) return [];
    return (await this.groups.find({ _id: { $in: [...new Set(ids)] } }).toArray()).map(groupOf);
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    assertFieldsMatchSchema(GROUPS_COLLECTION.name, GROUPS_COLLECTION.schema, { members: [userId] });
    await this.groups.updateOne({ _id: groupId }, { $addToSet: { members: userId } });
  }

  async removeMember(groupId: string, userId: string): Promise<void> {
    await this.groups.updateOne({ _id: groupId }, { $pull: { members: userId } });
  }

  async groupIdsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(userIds.map((u) => [u, []]));
    if (userIds.length === 0) return out;
    const groups = await this.groups
      .find({ members: { $in: [...new Set(userIds)] } }, { projection: { _id: 1, members: 1 } })
      .toArray();
    for (const g of groups) for (const m of new Set(g.members)) out.get(m)?.push(g._id);
    for (const ids of out.values()) ids.sort();
    return out;
  }

  async list(): Promise<GroupRecord[]> {
    return (await this.groups.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(groupOf);
  }
}

function groupOf(doc: GroupDoc): GroupRecord {
  return {
    id: doc._id,
    name: doc.name,
    nameKey: doc.nameKey,
    description: doc.description ?? null,
    members: doc.members,
    createdAt: doc.createdAt,
  };
}

// ---------------------------------------------------------------------------------------

export class MongoApiKeyRepository implements ApiKeyRepository {
  private readonly keys: Collection<ApiKeyDoc>;

  constructor(private readonly db: Db) {
    this.keys = db.collection<ApiKeyDoc>(API_KEYS_COLLECTION.name);
  }

  insert(key: ApiKeyRecord): Promise<void> {
    const doc: ApiKeyDoc = {
      _id: key.id,
      name: key.name,
      roles: [...key.roles],
      userId: key.userId,
      groupIds: [...key.groupIds],
      tokenHash: key.tokenHash,
      createdAt: key.createdAt,
      createdBy: key.createdBy,
      revokedAt: key.revokedAt,
    };
    return insertUnique(this.db, API_KEYS_COLLECTION, doc, 'API key');
  }

  async byId(id: string): Promise<ApiKeyRecord | undefined> {
    const doc = await this.keys.findOne({ _id: id });
    return doc ? apiKeyOf(doc) : undefined;
  }

  async byTokenHash(tokenHash: string): Promise<ApiKeyRecord | undefined> {
    const doc = await this.keys.findOne({ tokenHash });
    return doc ? apiKeyOf(doc) : undefined;
  }

  /** The filter on `revokedAt: null` keeps the first revocation time. */
  async revoke(id: string, at: Date): Promise<void> {
    await this.keys.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
  }

  async activeAdmins(): Promise<ApiKeyRecord[]> {
    return (await this.keys.find({ roles: 'ADMIN', revokedAt: null }).sort({ createdAt: 1, _id: 1 }).toArray()).map(apiKeyOf);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.keys.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(apiKeyOf);
  }
}

function apiKeyOf(doc: ApiKeyDoc): ApiKeyRecord {
  return {
    id: doc._id,
    name: doc.name,
    roles: doc.roles,
    userId: doc.userId,
    groupIds: doc.groupIds,
    tokenHash: doc.tokenHash,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy ?? null,
    revokedAt: doc.revokedAt ?? null,
  };
}
