/**
 * Directory groups. Members live on the group document, so adding or removing one is a
 * single-document update (atomic without transactions); a user's groups are the groups that
 * list it. Group names are unique, compared case-insensitively (`nameKey`).
 */
import { randomUUID } from 'node:crypto';
import { type Collection, MongoServerError } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';
import { assertMatchesSchema } from '../db/jsonSchema';

export interface GroupDoc {
  _id: string;
  name: string;
  nameKey: string;
  description: string | null;
  members: string[];
  createdAt: Date;
}

export const GROUPS_COLLECTION: CollectionDefinition = {
  name: 'groups',
  schema: {
    bsonType: 'object',
    required: ['_id', 'name', 'nameKey', 'description', 'members', 'createdAt'],
    properties: {
      _id: { bsonType: 'string' },
      name: { bsonType: 'string', minLength: 1, maxLength: 128 },
      nameKey: { bsonType: 'string', minLength: 1, maxLength: 128 },
      description: { bsonType: ['string', 'null'], maxLength: 1024 },
      members: { bsonType: 'array', items: { bsonType: 'string' } },
      createdAt: { bsonType: 'date' },
    },
  },
  // The unique name index is what settles two concurrent creations of one name.
  indexes: [
    { key: { nameKey: 1 }, options: { unique: true, name: 'name_key_unique' } },
    { key: { members: 1 }, options: { name: 'members' } },
  ],
};

export class DuplicateGroupNameError extends Error {
  override readonly name = 'DuplicateGroupNameError';
}

export function groupNameKey(name: string): string {
  return name.toLowerCase();
}

export class GroupStore {
  constructor(private readonly groups: Collection<GroupDoc>) {}

  async create(fields: { name: string; description: string | null }): Promise<GroupDoc> {
    const doc: GroupDoc = { _id: randomUUID(), ...fields, nameKey: groupNameKey(fields.name), members: [], createdAt: new Date() };
    assertMatchesSchema(GROUPS_COLLECTION.name, GROUPS_COLLECTION.schema, doc);
    try {
      await this.groups.insertOne(doc);
    } catch (err) {
      if (err instanceof MongoServerError && err.code === 11000) throw new DuplicateGroupNameError(`a group named ${fields.name} exists`);
      throw err;
    }
    return doc;
  }

  byId(id: string): Promise<GroupDoc | null> {
    return this.groups.findOne({ _id: id });
  }

  byNameKey(nameKey: string): Promise<GroupDoc | null> {
    return this.groups.findOne({ nameKey });
  }

  async byIds(ids: readonly string[]): Promise<GroupDoc[]> {
    if (ids.length === 0) return [];
    return this.groups.find({ _id: { $in: [...ids] } }).toArray();
  }

  async addMember(groupId: string, userId: string): Promise<GroupDoc | null> {
    await this.groups.updateOne({ _id: groupId }, { $addToSet: { members: userId } });
    return this.byId(groupId);
  }

  async removeMember(groupId: string, userId: string): Promise<GroupDoc | null> {
    await this.groups.updateOne({ _id: groupId }, { $pull: { members: userId } });
    return this.byId(groupId);
  }

  /** The ids of the groups listing each user, sorted (a stable snapshot for event stamping). */
  async groupIdsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(userIds.map((u) => [u, []]));
    if (userIds.length === 0) return out;
    const groups = await this.groups.find({ members: { $in: [...userIds] } }, { projection: { _id: 1, members: 1 } }).toArray();
    for (const g of groups) for (const m of g.members) out.get(m)?.push(g._id);
    for (const ids of out.values()) ids.sort();
    return out;
  }

  list(): Promise<GroupDoc[]> {
    return this.groups.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
  }
}
