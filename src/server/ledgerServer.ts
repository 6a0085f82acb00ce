/**
 * Wires configuration, database and HTTP together and owns their lifecycle: listen first,
 * then open the database (the embedded engine may need building), then serve; on stop,
 * drain HTTP, close the database, stop the engine.
 */
import type { Config } from '../config';
import { type Database, openDatabase } from '../db/database';
import { GraphQLError } from 'graphql';
import { bearerToken, type LedgerContext } from '../graphql/context';
import { buildLedgerSchema } from '../graphql/schema';
import { Ledger } from '../ledger/ledger';
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
  let ledger: Ledger | undefined;
  let http: RunningHttpServer | undefined;
  const schema = await buildLedgerSchema();
  http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema,
    logger,
    isReady: async () => {
      if (!database || !ledger) return false;
      await database.db.command({ ping: 1 });
      return true;
    },
    routes: (app) => {
      // C2SP tlog-tiles convention: the latest signed checkpoint as plain text, for monitors and witnesses.
      app.get('/checkpoint', async (_req, res) => {
        if (!ledger) {
          res.status(503).type('text/plain').send('starting\n');
          return;
        }
        const latest = await ledger.latestCheckpoint();
        res.status(200).set('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send(latest.note);
      });
    },
    context: async (req): Promise<LedgerContext> => {
      if (!ledger) {
        throw new GraphQLError('the ledger is starting', { extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } } });
      }
      const token = bearerToken(req.headers.authorization);
      const authentication = await ledger.authenticate(token);
      return { ledger, policy: { publicLog: config.publicProofs }, recordReads: config.recordReads, authentication };
    },
  });
  logger.info({ url: http.url }, 'listening');

  const ready = openDatabase(config, (line) => logger.info(line)).then(async (db) => {
    database = db;
    logger.info({ embedded: db.engine !== undefined, enginePid: db.engine?.pid, db: config.dbName }, 'database ready');
    ledger = await Ledger.open({ db: db.db, logger, signingKeyFile: config.signingKeyFile, origin: config.origin });
    const latest = await ledger.latestCheckpoint();
    logger.info({ origin: ledger.origin, treeSize: latest._id, verifierKey: ledger.verifierKey }, 'ledger ready');
  });
  // A failed start is reported through `ready`; keep an unobserved rejection from crashing first.
  ready.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await http?.close();
    http = undefined;
    await ready.catch(() => undefined);
    await ledger?.close();
    ledger = undefined;
    await database?.close();
    database = undefined;
  };
  return { url: http.url, ready, stop: () => (stopping ??= stop()) };
}
