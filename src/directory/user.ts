/**
 * Directory users: the people and services that hold API keys. Users are never deleted (events
 * name them forever); they are disabled instead, which stops all their keys at once.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';
import { assertMatchesSchema } from '../db/jsonSchema';

export const USER_TYPES = ['HUMAN', 'SERVICE'] as const;
export type UserType = (typeof USER_TYPES)[number];
export const USER_STATUSES = ['ACTIVE', 'DISABLED'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

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
      _id: { bsonType: 'string' },
      name: { bsonType: 'string', minLength: 1, maxLength: 128 },
      type: { enum: [...USER_TYPES] },
      externalId: { bsonType: ['string', 'null'], maxLength: 256 },
      status: { enum: [...USER_STATUSES] },
      createdAt: { bsonType: 'date' },
      updatedAt: { bsonType: 'date' },
    },
  },
  // Lookups are by `_id` only; the directory is small enough to list whole.
  indexes: [],
};

export class UserStore {
  constructor(private readonly users: Collection<UserDoc>) {}

  async create(fields: { name: string; type: UserType; externalId: string | null }, id: string = randomUUID()): Promise<UserDoc> {
    const now = new Date();
    const doc: UserDoc = { _id: id, ...fields, status: 'ACTIVE', createdAt: now, updatedAt: now };
    assertMatchesSchema(USERS_COLLECTION.name, USERS_COLLECTION.schema, doc);
    await this.users.insertOne(doc);
    return doc;
  }

  byId(id: string): Promise<UserDoc | null> {
    return this.users.findOne({ _id: id });
  }

  async byIds(ids: readonly string[]): Promise<UserDoc[]> {
    if (ids.length === 0) return [];
    return this.users.find({ _id: { $in: [...ids] } }).toArray();
  }

  async update(before: UserDoc, change: { name?: string; status?: UserStatus }): Promise<UserDoc> {
    const after: UserDoc = { ...before, ...change, updatedAt: new Date() };
    assertMatchesSchema(USERS_COLLECTION.name, USERS_COLLECTION.schema, after);
    await this.users.updateOne({ _id: before._id }, { $set: { name: after.name, status: after.status, updatedAt: after.updatedAt } });
    return after;
  }

  list(): Promise<UserDoc[]> {
    return this.users.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
  }
}
