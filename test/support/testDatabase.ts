import { randomBytes } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { connectClient } from '../../src/storage/mongodb/client';

export interface TestDatabase {
  readonly uri: string;
  readonly name: string;
  readonly client: MongoClient;
  readonly db: Db;
  /** Drops the database and closes the client. */
  dispose(): Promise<void>;
}

/** The run's MongoDB-wire engine (see globalSetup.ts); throws when there is none. */
export function engineUri(): string {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error(`no MongoDB-wire test engine: ${process.env.LEDGER_TEST_MONGODB_UNAVAILABLE ?? 'the integration global setup did not run'}`);
  return uri;
}

/** A fresh, uniquely named database on the run's engine. */
export async function openTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const uri = engineUri();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = connectClient(uri);
  await client.connect();
  const db = client.db(name);
  return {
    uri,
    name,
    client,
    db,
    async dispose() {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}
