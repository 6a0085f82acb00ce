/**
 * Wires configuration, storage and HTTP together and owns their lifecycle: listen first,
 * then open the database, then serve; on stop, drain HTTP, flush counted refusals, stop the
 * sequencer, close the database and release the data folder.
 */
import type { Config } from '../config';
import type { LedgerContext } from '../graphql/context';
import { buildLedgerSchema } from '../graphql/schema';
import { DenialRecorder } from '../ledger/denialRecorder';
import { resolveKek } from '../lifecycle/kekSource';
import { lifecycleOf } from '../ledger/lifecycle';
import { Ledger } from '../ledger/ledger';
import type { Logger } from '../logger';
import { holdDataFolder, openStorage } from '../storage/open';
import type { LedgerStorage } from '../storage/port';
import { AdmissionControl, type LedgerAdmission } from './admission';
import { exportHandler } from './exportRoute';
import { type RunningHttpServer, startHttpServer } from './httpServer';

export interface LedgerServer {
  readonly url: string;
  /** Resolves once the database is open (rejects if it cannot be). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startLedgerServer(config: Config, logger: Logger): Promise<LedgerServer> {
  let storage: LedgerStorage | undefined;
  let ledger: Ledger | undefined;
  let lock: { release(): Promise<void> } | undefined;
  let denials: DenialRecorder | undefined;
  let http: RunningHttpServer | undefined;
  const schema = await buildLedgerSchema();
  // Admission refuses every request until the ledger is open, so `ledger` is set here.
  const contextOf = (admitted: LedgerAdmission): LedgerContext => ({
    ledger: ledger!,
    policy: { publicLog: config.publicProofs },
    recordReads: config.recordReads,
    authentication: admitted.authentication,
    source: admitted.source,
    clientKey: admitted.clientKey,
    ...(denials && { denials }),
  });
  const admission = new AdmissionControl({ perKey: config.http.rateLimitPerKey, anonymous: config.http.rateLimitAnonymous, authenticate: null });
  http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema,
    logger,
    http: config.http,
    admit: (req) => admission.admit(req),
    isReady: async () => {
      if (!storage || !ledger) return false;
      try {
        await storage.ping();
      } catch (err) {
        denials?.databaseFailed();
        throw err;
      }
      return true;
    },
    routes: (app, admitted, admissionOf) => {
      // C2SP tlog-tiles convention: the latest signed checkpoint as plain text, for monitors and witnesses.
      app.get('/checkpoint', admitted, async (_req, res) => {
        if (!ledger) {
          res.status(503).type('text/plain').send('starting\n');
          return;
        }
        const latest = await ledger.latestCheckpoint();
        res.status(200).set('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send(latest.note);
      });
      app.get('/export', admitted, exportHandler({ context: (req) => contextOf(admissionOf(req)), logger }));
    },
    context: async (_req, admitted): Promise<LedgerContext> => contextOf(admitted),
  });
  logger.info({ url: http.url }, 'listening');

  let retention: NodeJS.Timeout | undefined;
  let retentionRunning: Promise<unknown> | undefined;
  const ready = (async () => {
    lock = await holdDataFolder(config);
    const opened = await openStorage(config, { create: true });
    storage = opened;
    logger.info({ storage: opened.kind, database: opened.description }, 'database ready');
    const kek = await resolveKek(config.kek, opened.lifecycle);
    if (kek.created) logger.info({ file: config.kek.file }, 'created the key-encryption key: back it up apart from the database');
    const openedLedger = await Ledger.open({
      storage: opened,
      logger,
      signingKeyFile: config.signingKeyFile,
      origin: config.origin,
      ...(kek.kek && { kek: kek.kek }),
    });
    denials = new DenialRecorder({
      write: (events) => openedLedger.recordSelf(events),
      probe: () => opened.ping(),
      logger,
      windowMs: config.http.denialWindowMs,
      maxKeysPerWindow: config.http.denialMaxCallers,
    });
    admission.authenticate = (token) => openedLedger.authenticate(token);
    ledger = openedLedger;
    if (openedLedger.keyring && config.retentionIntervalMs > 0) {
      const lifecycle = lifecycleOf(openedLedger);
      retention = setInterval(() => {
        if (retentionRunning) return;
        retentionRunning = lifecycle
          .applyRetention()
          .then((run) => run.shredded > 0 && logger.info(run, 'retention applied'))
          .catch((err: unknown) => logger.error({ err }, 'retention run failed; it resumes on the next run'))
          .finally(() => (retentionRunning = undefined));
      }, config.retentionIntervalMs);
      retention.unref();
    }
    const latest = await openedLedger.latestCheckpoint();
    logger.info({ origin: openedLedger.origin, treeSize: latest.treeSize, verifierKey: openedLedger.verifierKey }, 'ledger ready');
  })();
  // A failed start is reported through `ready`; keep an unobserved rejection from crashing first.
  ready.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (retention) clearInterval(retention);
    await retentionRunning;
    await http?.close();
    http = undefined;
    await ready.catch(() => undefined);
    // Counted refusals are owed to the log before it closes.
    await denials?.stop();
    await ledger?.close();
    ledger = undefined;
    await storage?.close();
    storage = undefined;
    await lock?.release();
    lock = undefined;
  };
  return { url: http.url, ready, stop: () => (stopping ??= stop()) };
}
