/**
 * Wires configuration, storage and HTTP together and owns their lifecycle: listen first,
 * then open the database, then serve; on stop, drain HTTP, stop the sequencer, close the
 * database and release the data folder.
 */
import { GraphQLError } from 'graphql';
import type { Config } from '../config';
import { bearerToken, type LedgerContext } from '../graphql/context';
import { buildLedgerSchema } from '../graphql/schema';
import { resolveKek } from '../lifecycle/kekSource';
import { lifecycleOf } from '../ledger/lifecycle';
import { Ledger } from '../ledger/ledger';
import type { Logger } from '../logger';
import { holdDataFolder, openStorage } from '../storage/open';
import type { LedgerStorage } from '../storage/port';
import { type RunningHttpServer, startHttpServer } from './httpServer';

export interface LedgerServer {
  readonly url: string;
  /** Resolves once the database is open (rejects if it cannot be). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** How long /healthz waits for the database before answering 503. */
const READINESS_TIMEOUT_MS = 800;

export async function startLedgerServer(config: Config, logger: Logger): Promise<LedgerServer> {
  let storage: LedgerStorage | undefined;
  let ledger: Ledger | undefined;
  let lock: { release(): Promise<void> } | undefined;
  let http: RunningHttpServer | undefined;
  const schema = await buildLedgerSchema();
  http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema,
    logger,
    isReady: async () => {
      if (!storage || !ledger) return false;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS)));
      try {
        return await Promise.race([storage.ping().then(() => true), late]);
      } finally {
        clearTimeout(timer);
      }
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
        throw new GraphQLError('the ledger is starting', { extensions: { code: 'UNAVAILABLE', http: { status: 503 } } });
      }
      const token = bearerToken(req.headers.authorization);
      const authentication = await ledger.authenticate(token);
      return { ledger, policy: { publicLog: config.publicProofs }, recordReads: config.recordReads, authentication };
    },
  });
  logger.info({ url: http.url }, 'listening');

  let retention: NodeJS.Timeout | undefined;
  let retentionRunning: Promise<unknown> | undefined;
  const ready = (async () => {
    lock = await holdDataFolder(config);
    storage = await openStorage(config, { create: true });
    logger.info({ storage: storage.kind, database: storage.description }, 'database ready');
    const kek = await resolveKek(config.kek, storage.lifecycle);
    if (kek.created) logger.info({ file: config.kek.file }, 'created the key-encryption key: back it up apart from the database');
    ledger = await Ledger.open({ storage, logger, signingKeyFile: config.signingKeyFile, origin: config.origin, ...(kek.kek && { kek: kek.kek }) });
    if (ledger.keyring && config.retentionIntervalMs > 0) {
      const lifecycle = lifecycleOf(ledger);
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
    const latest = await ledger.latestCheckpoint();
    logger.info({ origin: ledger.origin, treeSize: latest.treeSize, verifierKey: ledger.verifierKey }, 'ledger ready');
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
    await ledger?.close();
    ledger = undefined;
    await storage?.close();
    storage = undefined;
    await lock?.release();
    lock = undefined;
  };
  return { url: http.url, ready, stop: () => (stopping ??= stop()) };
}
