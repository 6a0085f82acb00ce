/**
 * Wires configuration, storage and HTTP together and owns their lifecycle: listen first,
 * then open the database, then serve (and start the webhook worker and the alert evaluator);
 * on stop, end live feeds, drain HTTP, flush counted refusals, stop the webhook worker and the
 * alert evaluator (releasing their leases), stop the sequencer, close the database and release
 * the data folder.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import { AccessDenied, type LedgerContext, recordDenial } from '../graphql/context';
import { buildLedgerSchema } from '../graphql/schema';
import { DenialRecorder } from '../ledger/denialRecorder';
import { resolveKek } from '../lifecycle/kekSource';
import { lifecycleOf } from '../ledger/lifecycle';
import { Ledger } from '../ledger/ledger';
import { IdempotencyConflictError } from '../log/idempotency';
import type { Logger } from '../logger';
import { holdDataFolder, openStorage } from '../storage/open';
import type { LedgerStorage } from '../storage/port';
import { AlertRunner } from '../stream/alerts';
import { LogWatcher } from '../stream/logWatcher';
import { NO_STREAM_METRICS } from '../stream/streamMetrics';
import { WebhookWorker } from '../stream/webhookDelivery';
import { AdmissionControl, type LedgerAdmission } from './admission';
import { Feed } from './feed';
import { exportHandler } from './exportRoute';
import { type RunningHttpServer, startHttpServer } from './httpServer';
import { HttpError } from './jsonErrors';
import { metricsHandler, PrometheusMetrics } from './metrics';
import { RateLimitedError } from './rateLimit';
import { tileHandler } from './tiles';
import { fetchSend } from './webhookSend';
import { Witnessing } from '../witness/witnessing';

export interface LedgerServer {
  readonly url: string;
  /** Resolves once the database is open (rejects if it cannot be). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** While stop() runs: the steps it is still waiting on, and the work they hold, for operators. */
  pending(): readonly string[];
  /** After stop(): the work shutdown gave up because the database did not answer (empty when it finished everything). */
  undone(): readonly string[];
}

export async function startLedgerServer(config: Config, logger: Logger): Promise<LedgerServer> {
  let storage: LedgerStorage | undefined;
  let ledger: Ledger | undefined;
  let lock: { release(): Promise<void> } | undefined;
  let denials: DenialRecorder | undefined;
  let http: RunningHttpServer | undefined;
  let watcher: LogWatcher | undefined;
  let webhookWorker: WebhookWorker | undefined;
  let alertRunner: AlertRunner | undefined;
  let witnessing: Witnessing | undefined;
  const schema = await buildLedgerSchema();
  const admission = new AdmissionControl({ perKey: config.http.rateLimitPerKey, anonymous: config.http.rateLimitAnonymous, authenticate: null });
  const metrics = config.metrics.mode === 'off' ? undefined : new PrometheusMetrics();
  // Admission refuses every request until the ledger is open, so `ledger` is set here.
  const contextOf = (admitted: LedgerAdmission): LedgerContext => ({
    ledger: ledger!,
    policy: { publicLog: config.publicProofs },
    recordReads: config.recordReads,
    authentication: admitted.authentication,
    source: admitted.source,
    clientKey: admitted.clientKey,
    ...(denials && { denials }),
    ...(metrics && { metrics }),
    webhooks: { changed: () => webhookWorker?.kick() },
    alerts: { changed: () => alertRunner?.kick() },
    ...(witnessing && { witnessing }),
  });
  let feed: Feed | undefined;
  http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema,
    logger,
    http: config.http,
    admit: async (req) => {
      try {
        return await admission.admit(req);
      } catch (err) {
        if (err instanceof RateLimitedError) metrics?.rateLimitedRequest(routeLabel(req.originalUrl.split('?')[0] ?? ''), err.scope);
        throw err;
      }
    },
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
      const scrape =
        metrics &&
        metricsHandler(config.metrics, metrics, async (req, reason) => {
          try {
            await recordDenial(contextOf(admissionOf(req)), 'metrics', new AccessDenied('UNAUTHENTICATED', reason));
          } catch {
            throw new HttpError(503, 'UNAVAILABLE', 'the ledger cannot record this refusal now; try again later');
          }
        });
      if (scrape) app.get('/metrics', admitted, scrape);
      // Admission lets requests through only once the ledger is open, so the watcher exists.
      feed = new Feed({ context: (req) => contextOf(admissionOf(req)), watcher: () => watcher!, logger });
      app.get('/feed', admitted, feed.handler);
      // C2SP tlog-tiles convention: the latest signed checkpoint as plain text, for monitors and witnesses.
      app.get('/checkpoint', admitted, async (_req, res) => {
        if (!ledger) {
          res.status(503).type('text/plain').send('starting\n');
          return;
        }
        const head = await ledger.latestCheckpoint();
        // With witnesses configured, the newest checkpoint their quorum has cosigned (witnessing.ts).
        const latest = witnessing ? await witnessing.publishable(head) : head;
        res.status(200).set('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send(latest.note);
      });
      app.get('/export', admitted, exportHandler({ context: (req) => contextOf(admissionOf(req)), logger }));
      // C2SP tlog-tiles: hash tiles (public like the proofs) and entry bundles (event read rules).
      app.get('/tile/*path', admitted, tileHandler({ context: (req) => contextOf(admissionOf(req)) }));
    },
    context: async (_req, admitted): Promise<LedgerContext> => contextOf(admitted),
  });
  metrics?.watchBodyBudget(http.bodyBudget);
  logger.info({ url: http.url }, 'listening');

  let retention: NodeJS.Timeout | undefined;
  let retentionRunning: Promise<unknown> | undefined;
  const ready = (async () => {
    lock = await holdDataFolder(config);
    const opened = await openStorage(config, { create: true });
    storage = opened;
    metrics?.watchThreads(() => opened.threadActivity?.() ?? []);
    logger.info({ storage: opened.kind, database: opened.description }, 'database ready');
    const kek = await resolveKek(config.kek, opened.lifecycle);
    if (kek.created) logger.info({ file: config.kek.file }, 'created the key-encryption key: back it up apart from the database');
    const openedLedger = await Ledger.open({
      storage: opened,
      logger,
      signingKeyFile: config.signingKeyFile,
      origin: config.origin,
      ...(kek.kek && { kek: kek.kek }),
      sealedReadCacheEntries: config.kek.readCacheEntries,
      ...(metrics && { metrics }),
    });
    metrics?.sampleWith(async () => {
      const head = await openedLedger.latestCheckpoint();
      return { treeSize: head.treeSize, checkpointCreatedAt: head.createdAt.getTime(), queuedEvents: openedLedger.queuedEvents };
    });
    denials = new DenialRecorder({
      write: (events) => openedLedger.recordSelf(events),
      probe: () => opened.ping(),
      logger,
      windowMs: config.http.denialWindowMs,
      maxKeysPerWindow: config.http.denialMaxCallers,
    });
    watcher = new LogWatcher({
      readSize: async () => (await openedLedger.latestCheckpoint()).treeSize,
      subscribe: (listener) => openedLedger.onCheckpoint((checkpoint) => listener(checkpoint.treeSize)),
    });
    const source = {
      signedSize: async () => (await openedLedger.latestCheckpoint()).treeSize,
      page: (q: Parameters<typeof openedLedger.storage.events.page>[0]) => openedLedger.storage.events.page(q),
    };
    webhookWorker = new WebhookWorker({
      store: openedLedger.storage.streams,
      ...(openedLedger.keyring && { seal: openedLedger.keyring }),
      source,
      watcher,
      send: fetchSend,
      record: (events) => openedLedger.recordSelf(events),
      logger: logger.child({ component: 'webhooks' }),
      metrics: metrics ?? NO_STREAM_METRICS,
      policy: config.webhooks,
      owner: randomUUID(),
    });
    webhookWorker.start();
    alertRunner = new AlertRunner({
      store: openedLedger.storage.streams,
      source,
      watcher,
      // One at a time: a replayed firing whose key was recorded with other content (a rule
      // changed between a crash and the restart) is skipped, not allowed to block the rest.
      record: async (firings) => {
        for (const firing of firings) {
          try {
            await openedLedger.recordSelfOnce([firing]);
          } catch (err) {
            if (!(err instanceof IdempotencyConflictError)) throw err;
            logger.warn({ key: firing.key }, 'an alert replayed after a restart differs from the one recorded first; keeping the first');
          }
        }
      },
      logger: logger.child({ component: 'alerts' }),
      owner: randomUUID(),
    });
    alertRunner.start();
    if (config.witnessing.witnesses.length > 0) {
      const witnesses = new Witnessing({
        config: config.witnessing,
        head: openedLedger.storage.head,
        cosignatures: openedLedger.storage.cosignatures,
        consistencyProof: async (from, to) => (await openedLedger.consistencyProof(from, to)).hashes,
        logger: logger.child({ component: 'witnesses' }),
        ...(metrics && { metrics }),
      });
      openedLedger.onCheckpoint(() => witnesses.checkpointSigned());
      witnesses.start();
      witnessing = witnesses;
      logger.info(
        { witnesses: config.witnessing.witnesses.map((w) => w.name), quorum: config.witnessing.quorum, receiptsWait: config.witnessing.waitForQuorum },
        'sending checkpoints to witnesses',
      );
    }
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
    if (config.http.dashboard) logger.info({ url: `${http.url}/` }, 'dashboard: open this address in a browser and sign in with an API key');
    // A first start has no key at all: say how to make the first one, where the operator is looking.
    if ((await openedLedger.directory.activeAdminUserIds()).length === 0) {
      logger.warn(
        { command: 'npx audit-ledger bootstrap-admin --name <you>' },
        'no ADMIN key exists yet: create the first one with `npx audit-ledger bootstrap-admin --name <you>` (same LEDGER_DATA_DIR or MONGODB_URI), then sign in with it',
      );
    }
  })();
  // A failed start is reported through `ready`; keep an unobserved rejection from crashing first.
  ready.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  /** The shutdown steps under way, by what an operator would call them. */
  const underway = new Set<string>();
  const step = async (name: string, work: () => Promise<unknown>): Promise<void> => {
    underway.add(name);
    try {
      await work();
    } finally {
      underway.delete(name);
    }
  };
  // Read before `ledger` and `denials` are let go, for undone().
  let closedLedger: Ledger | undefined;
  const stop = async (): Promise<void> => {
    // Work already taken is still committed while the database answers; once it does not,
    // nothing waits for it to come back (a dead database must not hold shutdown forever).
    ledger?.windDown();
    if (retention) clearInterval(retention);
    await step('retention run', async () => retentionRunning);
    // Live feeds never end on their own: end them so draining HTTP does not wait for them.
    feed?.stop();
    watcher?.stop();
    await step('in-flight HTTP requests', async () => http?.close());
    http = undefined;
    await step('opening the database', () => ready.catch(() => undefined));
    // Again: a ledger that finished opening during the steps above was not there to be told.
    ledger?.windDown();
    // Counted refusals are owed to the log before it closes.
    await step('refusal summaries', async () => denials?.stop());
    // Before the ledger closes: the workers may record events (dead letters, alerts) and
    // release their leases. They are independent of each other.
    await Promise.all([
      step('webhook worker', async () => webhookWorker?.stop()),
      step('alert evaluator', async () => alertRunner?.stop()),
      step('witness requests', async () => witnessing?.stop()),
    ]);
    closedLedger = ledger;
    await step('sequencer', async () => ledger?.close());
    ledger = undefined;
    await step('closing the database', async () => storage?.close());
    storage = undefined;
    await step('releasing the data folder', async () => lock?.release());
    lock = undefined;
  };
  const pending = (): string[] => {
    const held: string[] = [...underway];
    const queued = ledger?.queuedEvents ?? 0;
    if (queued > 0) held.push(`${queued} events queued for the sequencer (unacknowledged)`);
    const summaries = denials?.unwrittenSummaries ?? 0;
    if (summaries > 0) held.push(`${summaries} refusal summaries not yet recorded`);
    return held;
  };
  const undone = (): string[] => {
    const lost: string[] = [];
    const givenUp = (ledger ?? closedLedger)?.givenUpEvents ?? 0;
    if (givenUp > 0) lost.push(`${givenUp} events whose appends failed unacknowledged`);
    const summaries = denials?.unwrittenSummaries ?? 0;
    if (summaries > 0) lost.push(`${summaries} refusal summaries not recorded`);
    return lost;
  };
  return { url: http.url, ready, stop: () => (stopping ??= stop()), pending, undone };
}

/** A metrics label per route, not per URL: tile paths are countless. */
function routeLabel(path: string): string {
  if (path.startsWith('/tile/entries/')) return '/tile/entries';
  if (path.startsWith('/tile/')) return '/tile';
  return path;
}
