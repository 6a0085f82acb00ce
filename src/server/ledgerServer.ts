/**
 * Wires configuration, database and HTTP together and owns their lifecycle: listen first,
 * then open the database (the embedded engine may need building), then serve; on stop,
 * drain HTTP, close the database, stop the engine.
 */
import type { Config } from '../config';
import { type Database, openDatabase } from '../db/database';
import { buildLedgerSchema } from '../graphql/schema';
import type { Logger } from '../logger';
import { type RunningHttpServer, startHttpServer } from './httpServer';

export interface LedgerServer {
  readonly url: string;
  /** Resolves once the database is open (rejects if it cannot be). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startLedgerServer(config: Config, logger: Logger): Promise<LedgerServer> {
  let database: Database | undefined;
  let http: RunningHttpServer | undefined;
  const schema = await buildLedgerSchema();
  http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema,
    logger,
    isReady: async () => {
      if (!database) return false;
      await database.db.command({ ping: 1 });
      return true;
    },
    context: async () => ({}),
  });
  logger.info({ url: http.url }, 'listening');

  const ready = openDatabase(config, (line) => logger.info(line)).then((db) => {
    database = db;
    logger.info({ embedded: db.engine !== undefined, db: config.dbName }, 'database ready');
  });
  // A failed start is reported through `ready`; keep an unobserved rejection from crashing first.
  ready.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await http?.close();
    http = undefined;
    await ready.catch(() => undefined);
    await database?.close();
    database = undefined;
  };
  return { url: http.url, ready, stop: () => (stopping ??= stop()) };
}
