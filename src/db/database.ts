/**
 * Opens the ledger's database: the configured MongoDB, or the embedded FerretDB engine.
 * Every write is acknowledged by a majority and journaled, because an acknowledged audit
 * event must survive a crash.
 */
import { type Db, MongoClient } from 'mongodb';
import type { Config } from '../config';
import { type EmbeddedEngine, runningEngineUri, startEmbeddedEngine } from '../engine/embeddedEngine';

export interface Database {
  readonly client: MongoClient;
  readonly db: Db;
  readonly uri: string;
  /** Present when this process started the embedded engine (and so must stop it). */
  readonly engine: EmbeddedEngine | undefined;
  close(): Promise<void>;
}

export function connectClient(uri: string): MongoClient {
  return new MongoClient(uri, {
    writeConcern: { w: 'majority', journal: true },
    readConcern: { level: 'majority' },
    serverSelectionTimeoutMS: 10_000,
  });
}

export async function openDatabase(
  config: Pick<Config, 'mongodbUri' | 'dbName' | 'dataDir' | 'engineCacheDir'>,
  onProgress?: (line: string) => void,
  options: { shareRunningEngine?: boolean } = {},
): Promise<Database> {
  const shared = !config.mongodbUri && options.shareRunningEngine ? await runningEngineUri(config.dataDir) : undefined;
  const engine =
    config.mongodbUri || shared
      ? undefined
      : await startEmbeddedEngine({ dataDir: config.dataDir, cacheDir: config.engineCacheDir, onProgress });
  const uri = config.mongodbUri ?? shared ?? engine!.uri;
  const client = connectClient(uri);
  try {
    await client.connect();
  } catch (err) {
    await engine?.stop();
    throw err;
  }
  return {
    client,
    db: client.db(config.dbName),
    uri,
    engine,
    async close() {
      await client.close();
      await engine?.stop();
    },
  };
}
