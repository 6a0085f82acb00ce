/**
 * Chooses and opens the storage adapter the configuration names: MongoDB when `MONGODB_URI`
 * is set, else the embedded SQLite database in `$LEDGER_DATA_DIR/ledger.db`. The one module
 * outside the adapters that knows both exist.
 */
import path from 'node:path';
import type { Config } from '../config';
import type * as MongoAdapter from './mongodb/mongoStorage';
import { mongoUriWithoutCredentials } from './mongodb/mongoUri';
import type { EventRangeReader, IntegrityReaderSource, LedgerStorage } from './port';
import { acquireServerLock } from './sqlite/serverLock';
import { openSqliteRangeReader, openSqliteStorage } from './sqlite/sqliteStorage';

export type StorageConfig = Pick<Config, 'mongodbUri' | 'dbName' | 'dataDir'>;

export const SQLITE_FILE_NAME = 'ledger.db';

export function sqliteFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), SQLITE_FILE_NAME);
}

/** Which database a configuration names, for operators (never with credentials). */
export function describeStorage(config: StorageConfig): string {
  return config.mongodbUri
    ? `mongodb ${mongoUriWithoutCredentials(config.mongodbUri)} database ${config.dbName}`
    : `sqlite ${sqliteFile(config.dataDir)}`;
}

/**
 * Opens the configured database. Without `create`, a database that holds no ledger is refused
 * (WrongDatabaseError): operator commands must not quietly start a new, empty log.
 */
export async function openStorage(config: StorageConfig, options: { create: boolean }): Promise<LedgerStorage> {
  if (config.mongodbUri) {
    // Loaded only when used: the MongoDB driver costs a server on SQLite some 20 MB resident.
    // (require, not import(): this CommonJS package runs from sources too, where a dynamic
    // import would need the compiled file's extension.)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openMongoStorage } = require('./mongodb/mongoStorage') as typeof MongoAdapter;
    return openMongoStorage({ uri: config.mongodbUri, dbName: config.dbName, create: options.create });
  }
  return openSqliteStorage({ file: sqliteFile(config.dataDir), create: options.create, appendInWorker: true });
}

/**
 * The embedded database serves one server process (MongoDB serves many, through the lease):
 * holds the data folder for this server, or fails naming the process that holds it.
 */
export async function holdDataFolder(config: StorageConfig): Promise<{ release(): Promise<void> }> {
  if (config.mongodbUri) return { release: async () => undefined };
  return acquireServerLock(config.dataDir);
}

/** Opens, in this thread, a range reader of the database an IntegrityReader's `source` names. */
export function openEventRangeReader(source: IntegrityReaderSource): EventRangeReader & { close(): Promise<void> } {
  if (source.kind === 'sqlite') return openSqliteRangeReader(source.location);
  throw new Error(`the ${source.kind} adapter serves no range reads to other threads`);
}
