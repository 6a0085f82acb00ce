/**
 * The MongoDB adapter of the storage port: a MongoDB replica set, or the embedded FerretDB
 * engine (started separately by the caller, see engine/embeddedEngine.ts), over the wire.
 *
 * Which databases are ledgers: one holding the `meta` format marker this adapter writes on
 * create, or, from before the marker existed, one holding a log head. Opening anything else
 * without `create` is refused, so a typo in a database name cannot start an empty ledger
 * beside the real one.
 */
import type { Db, MongoClient } from 'mongodb';
import { LedgerError } from '../../errors';
import { WrongDatabaseError } from '../errors';
import type { LedgerStorage } from '../port';
import { connectClient, describeDatabase } from './client';
import { ensureCollection } from './collections';
import { MongoApiKeyRepository, MongoGroupRepository, MongoUserRepository } from './directoryRepositories';
import {
  ALL_COLLECTIONS,
  FORMAT_ID,
  FORMAT_NAME,
  HEAD_ID,
  LOG_HEAD_COLLECTION,
  META_COLLECTION,
  type LogHeadDoc,
  type MetaDoc,
  SCHEMA_VERSION,
} from './documents';
import { onlyDuplicateKeys, translateDriverError, translatingErrors } from './driverErrors';
import { MongoEventRepository } from './eventRepository';
import { MongoIntegrityReader } from './integrityReader';
import { MongoLifecycleStore } from './lifecycleStore';
import { MongoStreamStore } from './streamStore';
import {
  MongoCheckpointRepository,
  MongoIdempotencyRepository,
  MongoLeaseRepository,
  MongoLogHeadRepository,
  MongoCosignatureRepository,
  MongoTileRepository,
} from './logRepositories';

export { mongoUriWithoutCredentials } from './client';

export interface MongoStorageOptions {
  readonly uri: string;
  readonly dbName: string;
  /** Create the collections, validators and indexes (and the format marker) if missing. */
  readonly create: boolean;
}

/** A ping that takes longer than this counts as no answer (the caller may race it too). */
const PING_TIMEOUT_MS = 1000;

export async function openMongoStorage(options: MongoStorageOptions): Promise<LedgerStorage> {
  const description = describeDatabase(options.uri, options.dbName);
  const client = connectClient(options.uri);
  try {
    await client.connect();
    const db = client.db(options.dbName);
    const isLedger = await holdsLedger(db, description);
    if (!isLedger && !options.create) {
      throw new WrongDatabaseError(
        `the MongoDB database ${options.dbName} (${description}) holds no audit ledger: ` +
          'check the database name, or create the ledger first',
      );
    }
    if (options.create) await createLedger(db);
    return storageOn(client, db, description);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw translateDriverError(err);
  }
}

/** Whether the database is a ledger this adapter can open; throws if it is someone else's or newer. */
async function holdsLedger(db: Db, description: string): Promise<boolean> {
  const marker = await db.collection<MetaDoc>(META_COLLECTION.name).findOne({ _id: FORMAT_ID });
  if (marker) {
    if (marker.value !== FORMAT_NAME) {
      throw new WrongDatabaseError(`${description} is marked as ${JSON.stringify(marker.value)}, not as an audit ledger`);
    }
    if (typeof marker.schemaVersion !== 'number' || marker.schemaVersion > SCHEMA_VERSION) {
      throw new WrongDatabaseError(
        `${description} holds an audit ledger of schema version ${String(marker.schemaVersion)}; ` +
          `this version reads up to ${SCHEMA_VERSION}: upgrade the server`,
      );
    }
    return true;
  }
  return (await db.collection<LogHeadDoc>(LOG_HEAD_COLLECTION.name).countDocuments({ _id: HEAD_ID }, { limit: 1 })) > 0;
}

/** Idempotent, and safe for two processes at once: every step tolerates the other's. */
async function createLedger(db: Db): Promise<void> {
  for (const definition of ALL_COLLECTIONS) await ensureCollection(db, definition);
  try {
    await db
      .collection<MetaDoc>(META_COLLECTION.name)
      .updateOne({ _id: FORMAT_ID }, { $setOnInsert: { value: FORMAT_NAME, schemaVersion: SCHEMA_VERSION } }, { upsert: true });
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
  }
}

function storageOn(client: MongoClient, db: Db, description: string): LedgerStorage {
  const idempotency = translatingErrors(new MongoIdempotencyRepository(db));
  const lifecycle = translatingErrors(new MongoLifecycleStore(db));
  return {
    kind: 'mongodb',
    description,
    // Any number of server processes may share one MongoDB: the lease and the unique leaf
    // index keep their appends apart.
    sharedByProcesses: true,
    events: translatingErrors(new MongoEventRepository(db, idempotency, lifecycle)),
    tiles: translatingErrors(new MongoTileRepository(db)),
    checkpoints: translatingErrors(new MongoCheckpointRepository(db)),
    head: translatingErrors(new MongoLogHeadRepository(db)),
    cosignatures: translatingErrors(new MongoCosignatureRepository(db)),
    idempotency,
    lease: translatingErrors(new MongoLeaseRepository(db)),
    users: translatingErrors(new MongoUserRepository(db)),
    groups: translatingErrors(new MongoGroupRepository(db)),
    apiKeys: translatingErrors(new MongoApiKeyRepository(db)),
    integrity: translatingErrors(new MongoIntegrityReader(db)),
    lifecycle,
    streams: translatingErrors(new MongoStreamStore(db)),
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LedgerError('UNAVAILABLE', `${description} did not answer a ping within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([db.command({ ping: 1 }), timeout]);
      } catch (err) {
        throw translateDriverError(err);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await client.close();
    },
  };
}
