/**
 * API keys. The token is shown once, at creation; only its SHA-256 is stored (tokens carry
 * 256 random bits, so a fast hash is enough and a stolen database yields no usable key).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';
import { assertMatchesSchema } from '../db/jsonSchema';
import { ROLES, type Role } from './role';

export interface ApiKeyDoc {
  _id: string;
  name: string;
  roles: Role[];
  /** The directory user the key acts as. */
  userId: string;
  /** Groups scoping READER reads and APPENDER explicit groups. */
  groupIds: string[];
  tokenHash: string;
  createdAt: Date;
  createdBy: string | null;
  revokedAt: Date | null;
}

export const API_KEYS_COLLECTION: CollectionDefinition = {
  name: 'apiKeys',
  schema: {
    bsonType: 'object',
    required: ['_id', 'name', 'roles', 'userId', 'groupIds', 'tokenHash', 'createdAt'],
    properties: {
      _id: { bsonType: 'string' },
      name: { bsonType: 'string', minLength: 1, maxLength: 128 },
      roles: { bsonType: 'array', minItems: 1, items: { enum: [...ROLES] } },
      userId: { bsonType: 'string' },
      groupIds: { bsonType: 'array', items: { bsonType: 'string' } },
      tokenHash: { bsonType: 'string', pattern: '^[0-9a-f]{64}$' },
      createdAt: { bsonType: 'date' },
      createdBy: { bsonType: ['string', 'null'] },
      revokedAt: { bsonType: ['date', 'null'] },
    },
  },
  indexes: [{ key: { tokenHash: 1 }, options: { unique: true, name: 'token_hash_unique' } }, { key: { roles: 1 } }, { key: { userId: 1 } }],
};

const TOKEN_PREFIX = 'alk_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface NewApiKey {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly userId: string;
  readonly groupIds: readonly string[];
  readonly createdBy: string | null;
}

export class ApiKeyStore {
  constructor(private readonly keys: Collection<ApiKeyDoc>) {}

  create(key: NewApiKey): Promise<{ doc: ApiKeyDoc; token: string }> {
    return this.createWithId(randomUUID(), key);
  }

  async createWithId(id: string, key: NewApiKey): Promise<{ doc: ApiKeyDoc; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const doc: ApiKeyDoc = {
      _id: id,
      name: key.name,
      roles: [...new Set(key.roles)],
      userId: key.userId,
      groupIds: [...new Set(key.groupIds)].sort(),
      tokenHash: hashToken(token),
      createdAt: new Date(),
      createdBy: key.createdBy,
      revokedAt: null,
    };
    assertMatchesSchema(API_KEYS_COLLECTION.name, API_KEYS_COLLECTION.schema, doc);
    await this.keys.insertOne(doc);
    return { doc, token };
  }

  /** The key a token belongs to, revoked or not; undefined for a token this ledger never issued. */
  async byToken(token: string): Promise<ApiKeyDoc | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    return (await this.keys.findOne({ tokenHash: hashToken(token) })) ?? undefined;
  }

  byId(id: string): Promise<ApiKeyDoc | null> {
    return this.keys.findOne({ _id: id });
  }

  /** Revokes once; revoking again keeps the first time. */
  async revoke(id: string): Promise<ApiKeyDoc | null> {
    await this.keys.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: new Date() } });
    return this.byId(id);
  }

  countActiveAdmins(): Promise<number> {
    return this.keys.countDocuments({ roles: 'ADMIN', revokedAt: null });
  }

  /** Users holding at least one unrevoked ADMIN key. */
  async activeAdminUserIds(): Promise<string[]> {
    const keys = await this.keys.find({ roles: 'ADMIN', revokedAt: null }, { projection: { userId: 1 } }).toArray();
    return [...new Set(keys.map((k) => k.userId))];
  }

  list(): Promise<ApiKeyDoc[]> {
    return this.keys.find({}).sort({ createdAt: 1 }).toArray();
  }
}
