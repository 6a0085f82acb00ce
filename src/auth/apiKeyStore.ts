/**
 * API keys. The token is shown once, at creation; only its SHA-256 is stored (tokens carry
 * 256 random bits, so a fast hash is enough and a stolen database yields no usable key).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { CollectionDefinition } from '../db/collections';
import { assertMatchesSchema } from '../db/jsonSchema';
import { type Principal, ROLES, type Role } from './role';

export interface ApiKeyDoc {
  _id: string;
  name: string;
  roles: Role[];
  tokenHash: string;
  createdAt: Date;
  createdBy: string | null;
  revokedAt: Date | null;
}

export const API_KEYS_COLLECTION: CollectionDefinition = {
  name: 'apiKeys',
  schema: {
    bsonType: 'object',
    required: ['_id', 'name', 'roles', 'tokenHash', 'createdAt'],
    properties: {
      _id: { bsonType: 'string' },
      name: { bsonType: 'string', minLength: 1, maxLength: 128 },
      roles: { bsonType: 'array', minItems: 1, items: { enum: [...ROLES] } },
      tokenHash: { bsonType: 'string', pattern: '^[0-9a-f]{64}$' },
      createdAt: { bsonType: 'date' },
      createdBy: { bsonType: ['string', 'null'] },
      revokedAt: { bsonType: ['date', 'null'] },
    },
  },
  indexes: [{ key: { tokenHash: 1 }, options: { unique: true, name: 'token_hash_unique' } }, { key: { roles: 1 } }],
};

const TOKEN_PREFIX = 'alk_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class ApiKeyStore {
  constructor(private readonly keys: Collection<ApiKeyDoc>) {}

  create(name: string, roles: Role[], createdBy: string | null): Promise<{ doc: ApiKeyDoc; token: string }> {
    return this.createWithId(randomUUID(), name, roles, createdBy);
  }

  async createWithId(id: string, name: string, roles: Role[], createdBy: string | null = null): Promise<{ doc: ApiKeyDoc; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const doc: ApiKeyDoc = {
      _id: id,
      name,
      roles: [...new Set(roles)],
      tokenHash: hashToken(token),
      createdAt: new Date(),
      createdBy,
      revokedAt: null,
    };
    assertMatchesSchema(API_KEYS_COLLECTION.name, API_KEYS_COLLECTION.schema, doc);
    await this.keys.insertOne(doc);
    return { doc, token };
  }

  /** The key's principal, or undefined for an unknown or revoked token. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const doc = await this.keys.findOne({ tokenHash: hashToken(token), revokedAt: null });
    return doc ? { keyId: doc._id, name: doc.name, roles: doc.roles } : undefined;
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

  list(): Promise<ApiKeyDoc[]> {
    return this.keys.find({}).sort({ createdAt: 1 }).toArray();
  }
}
