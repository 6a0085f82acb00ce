/**
 * Wires configuration, database and HTTP together and owns their lifecycle: listen first,
 * then open the database (the embedded engine may need building), then serve; on stop,
 * drain HTTP, close the database, stop the engine.
 */
import type { Config } from '../config';
import { type Database, openDatabase } from '../db/database';
import type { LedgerContext } from '../graphql/context';
import { buildLedgerSchema } from '../graphql/schema';
import { DenialRecorder } from '../ledger/denialRecorder';
import { Ledger } from '../ledger/ledger';
import type { Logger } from '../logger';
import { AdmissionControl } from './admission';
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
  let denials: DenialRecorder | undefined;
  let http: RunningHttpServer | undefined;
  const schema = await buildLedgerSchema();
  const admission = new AdmissionControl({ perKey: config.http.rateLimitPerKey, anonymous: config.http.rateLimitAnonymous, authenticate: null });
  http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema,
    logger,
    http: config.http,
    admit: (req) => admission.admit(req),
    isReady: async () => {
      if (!database || !ledger) return false;
      try {
        await database.db.command({ ping: 1 });
      } catch (err) {
        denials?.databaseFailed();
        throw err;
      }
      return true;
    },
    routes: (app, admitted) => {
      // C2SP tlog-tiles convention: the latest signed checkpoint as plain text, for monitors and witnesses.
      app.get('/checkpoint', admitted, async (_req, res) => {
        if (!ledger) {
          res.status(503).type('text/plain').send('starting\n');
          return;
        }
        const latest = await ledger.latestCheckpoint();
        res.status(200).set('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send(latest.note);
      });
    },
    // Admission refuses every request until the ledger is open, so `ledger` is set here.
    context: async (_req, admitted): Promise<LedgerContext> => ({
      ledger: ledger!,
      policy: { publicLog: config.publicProofs },
      recordReads: config.recordReads,
      authentication: admitted.authentication,
      source: admitted.source,
      clientKey: admitted.clientKey,
      ...(denials && { denials }),
    }),
  });
  logger.info({ url: http.url }, 'listening');

  const ready = openDatabase(config, (line) => logger.info(line)).then(async (db) => {
    database = db;
    logger.info({ embedded: db.engine !== undefined, enginePid: db.engine?.pid, db: config.dbName }, 'database ready');
    ledger = await Ledger.open({ db: db.db, logger, signingKeyFile: config.signingKeyFile, origin: config.origin });
    const opened = ledger;
    denials = new DenialRecorder({
      write: (events) => opened.recordSelf(events),
      probe: async () => {
        await db.db.command({ ping: 1 });
      },
      logger,
      windowMs: config.http.denialWindowMs,
      maxKeysPerWindow: config.http.denialMaxCallers,
    });
    admission.authenticate = (token) => opened.authenticate(token);
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
    // Counted refusals are owed to the log before it closes.
    await denials?.stop();
    await ledger?.close();
    ledger = undefined;
    await database?.close();
    database = undefined;
  };
  return { url: http.url, ready, stop: () => (stopping ??= stop()) };
}
