/**
 * The server's Prometheus metrics (prom-client), in a registry of its own. The core reports
 * through the LedgerMetrics and StreamMetrics interfaces and never imports prom-client; the
 * shell counts what only it sees (refusals, rate limits) and samples gauges at scrape time.
 * Label values are bounded: operation names from the schema, HTTP routes, repository
 * methods, and subscription ids (as many as an ADMIN creates).
 */
import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsConfig } from '../config';
import type { BatchTiming, LedgerMetrics } from '../log/metrics';
import type { ThreadActivity } from '../storage/port';
import type { StreamMetrics } from '../stream/streamMetrics';
import type { WitnessMetrics, WitnessOutcomeLabel } from '../witness/witnessing';
import { HttpError } from './jsonErrors';

/** What a scrape samples from the ledger: read when scraped, never cached for long. */
export interface LedgerSample {
  readonly treeSize: number;
  /** When the latest checkpoint was signed (ms since epoch). */
  readonly checkpointCreatedAt: number;
  readonly queuedEvents: number;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class PrometheusMetrics implements LedgerMetrics, StreamMetrics, WitnessMetrics {
  readonly registry = new Registry();
  private readonly append: Histogram;
  private readonly batchEvents: Histogram;
  private readonly batchPhase: Histogram<'phase'>;
  private readonly proof: Histogram<'kind'>;
  private readonly database: Histogram<'operation'>;
  private readonly databaseErrors: Counter<'operation'>;
  private readonly denials: Counter<'operation' | 'code'>;
  private readonly rateLimited: Counter<'route' | 'scope'>;
  private readonly webhookLag: Histogram;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private readonly webhookBacklog: Gauge<'subscription'>;
  private readonly witnessRequests: Counter<'witness' | 'outcome'>;
  private readonly witnessSize: Gauge<'witness'>;
  private readonly witnessTimestamp: Gauge<'witness'>;
  private sampler: (() => Promise<LedgerSample>) | undefined;
  /** Taken once per scrape, before the registry collects: one head read serves every gauge. */
  private current: LedgerSample | undefined;
  /** The storage's own threads, once it is open (watchThreads). */
  private storageThreads: () => readonly ThreadActivity[] = () => [];

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'audit_ledger_process_' });
    this.append = new Histogram({
      name: 'audit_ledger_append_seconds',
      help: 'Time from queueing a recordEvent/recordEvents call to its receipts (stored, tiled, checkpointed)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchEvents = new Histogram({ name: 'audit_ledger_batch_events', help: 'Events per committed batch (group commit)', buckets: BATCH_BUCKETS, registers });
    this.batchPhase = new Histogram({
      name: 'audit_ledger_batch_phase_seconds',
      help: 'Time a committed batch spent per phase: pending (head compare-and-set), insert (events), tree_checkpoint (tiles, signing, head)',
      labelNames: ['phase'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.proof = new Histogram({ name: 'audit_ledger_proof_seconds', help: 'Time to compute an inclusion or consistency proof', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers });
    this.database = new Histogram({
      name: 'audit_ledger_database_seconds',
      help: 'Latency of calls through the storage port, by repository.method',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.databaseErrors = new Counter({ name: 'audit_ledger_database_errors_total', help: 'Storage calls that failed, by repository.method', labelNames: ['operation'], registers });
    this.denials = new Counter({ name: 'audit_ledger_denials_total', help: 'Refused calls (UNAUTHENTICATED, FORBIDDEN), by operation', labelNames: ['operation', 'code'], registers });
    this.rateLimited = new Counter({
      name: 'audit_ledger_rate_limited_total',
      help: 'Requests refused by a rate limit (429), by route and bucket (key or address); refused before the body, and so the GraphQL operation, is read',
      labelNames: ['route', 'scope'],
      registers,
    });
    this.webhookLag = new Histogram({
      name: 'audit_ledger_webhook_lag_seconds',
      help: "Time from an event's recordedAt to the webhook receiver's 2xx for the batch carrying it",
      buckets: LAG_BUCKETS,
      registers,
    });
    this.webhookDeliveries = new Counter({ name: 'audit_ledger_webhook_deliveries_total', help: 'Webhook POSTs, by outcome (delivered, failed, dead_letter)', labelNames: ['outcome'], registers });
    this.webhookBacklog = new Gauge({ name: 'audit_ledger_webhook_backlog_events', help: 'Leaves not yet scanned for a subscription (signed tree size minus its cursor)', labelNames: ['subscription'], registers });
    // Witnesses are configured, so the label values are bounded by the configuration.
    this.witnessRequests = new Counter({
      name: 'audit_ledger_witness_requests_total',
      help: 'add-checkpoint requests to witnesses, by witness and outcome (cosigned, conflict: 409, refused: 4xx/5xx or a bad answer, unreachable, ahead: the witness has a larger tree)',
      labelNames: ['witness', 'outcome'],
      registers,
    });
    this.witnessSize = new Gauge({ name: 'audit_ledger_witness_cosigned_tree_size', help: 'Tree size of the newest checkpoint each witness cosigned for this process', labelNames: ['witness'], registers });
    this.witnessTimestamp = new Gauge({
      name: 'audit_ledger_witness_cosignature_timestamp_seconds',
      help: "Timestamp (Unix seconds) of each witness's newest cosignature received by this process",
      labelNames: ['witness'],
      registers,
    });
    // Utilisation per thread, the first thing to read when a rate falls short: a thread busy
    // nearly all the time is the bottleneck, and which one says where to look (the main thread:
    // HTTP, GraphQL and the sequencer; SQLite's append worker: the commits).
    const threads = (): readonly ThreadActivity[] => [{ thread: 'main', busySeconds: performance.eventLoopUtilization().active / 1000 }, ...this.storageThreads()];
    new Counter({
      name: 'audit_ledger_thread_busy_seconds_total',
      help: "Seconds each thread's event loop was busy rather than waiting: main (HTTP, GraphQL, the sequencer) and the storage's worker threads (SQLite: append, which commits the events; background, which runs counts and WAL checkpoints). Its rate is the thread's utilisation",
      labelNames: ['thread'],
      registers,
      // Each thread's total never decreases (a restarted worker's time is kept: workerClient.ts),
      // so the counter is set to it; a thread not started yet (a worker starts on first use) reads 0.
      collect() {
        this.reset();
        for (const t of threads()) this.inc({ thread: t.thread }, t.busySeconds);
      },
    });
    const sample = (): LedgerSample | undefined => this.current;
    new Gauge({
      name: 'audit_ledger_tree_size',
      help: 'Leaves in the latest signed checkpoint',
      registers,
      collect() {
        const s = sample();
        if (s) this.set(s.treeSize);
      },
    });
    new Gauge({
      name: 'audit_ledger_checkpoint_age_seconds',
      help: 'Seconds since the latest checkpoint was signed (grows while nothing is recorded)',
      registers,
      collect() {
        const s = sample();
        if (s) this.set(Math.max(0, (Date.now() - s.checkpointCreatedAt) / 1000));
      },
    });
    new Gauge({
      name: 'audit_ledger_queue_events',
      help: 'Events queued for the sequencer in this process',
      registers,
      collect() {
        const s = sample();
        if (s) this.set(s.queuedEvents);
      },
    });
  }

  /** Gauges of the request-body budget (bodyBudget.ts): how full it is, and who waits for it. */
  watchBodyBudget(budget: { readonly bytesInFlight: number; readonly waitingRequests: number }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'audit_ledger_http_body_bytes_in_flight',
      help: 'Request body bytes reserved by requests being read or worked on (LEDGER_MAX_BODY_BYTES_IN_FLIGHT bounds it)',
      registers,
      collect() {
        this.set(budget.bytesInFlight);
      },
    });
    new Gauge({
      name: 'audit_ledger_http_requests_waiting_for_body_budget',
      help: 'Requests whose body is held unread until the body budget has room (refused 503 after LEDGER_BODY_WAIT_MS)',
      registers,
      collect() {
        this.set(budget.waitingRequests);
      },
    });
  }

  /** The storage's worker threads join the utilisation counter once it is open. */
  watchThreads(storageThreads: () => readonly ThreadActivity[]): void {
    this.storageThreads = storageThreads;
  }

  /** Set once the ledger is open; before that the sampled gauges are left out. */
  sampleWith(sampler: () => Promise<LedgerSample>): void {
    this.sampler = sampler;
  }

  /** The scrape's text; a ledger that cannot be sampled (database down) leaves its gauges out. */
  async scrape(): Promise<string> {
    this.current = this.sampler ? await this.sampler().catch(() => undefined) : undefined;
    return this.registry.metrics();
  }

  batchCommitted(timing: BatchTiming): void {
    this.batchEvents.observe(timing.events);
    this.batchPhase.observe({ phase: 'pending' }, timing.pendingMs / 1000);
    this.batchPhase.observe({ phase: 'insert' }, timing.insertMs / 1000);
    this.batchPhase.observe({ phase: 'tree_checkpoint' }, timing.treeAndCheckpointMs / 1000);
  }

  appendAnswered(seconds: number): void {
    this.append.observe(seconds);
  }

  proofServed(kind: 'inclusion' | 'consistency', seconds: number): void {
    this.proof.observe({ kind }, seconds);
  }

  databaseCall(operation: string, seconds: number, failed: boolean): void {
    this.database.observe({ operation }, seconds);
    if (failed) this.databaseErrors.inc({ operation });
  }

  denied(operation: string, code: string): void {
    this.denials.inc({ operation, code });
  }

  rateLimitedRequest(route: string, scope: 'key' | 'address'): void {
    this.rateLimited.inc({ route, scope });
  }

  webhookDelivered(_subscriptionId: string, lagsSeconds: readonly number[]): void {
    this.webhookDeliveries.inc({ outcome: 'delivered' });
    for (const lag of lagsSeconds) this.webhookLag.observe(Math.max(0, lag));
  }

  webhookFailed(_subscriptionId: string, deadLettered: boolean): void {
    this.webhookDeliveries.inc({ outcome: deadLettered ? 'dead_letter' : 'failed' });
  }

  webhookBacklogIs(subscriptionId: string, events: number): void {
    this.webhookBacklog.set({ subscription: subscriptionId }, events);
  }

  webhookGone(subscriptionId: string): void {
    this.webhookBacklog.remove({ subscription: subscriptionId });
  }

  witnessRequest(witness: string, outcome: WitnessOutcomeLabel): void {
    this.witnessRequests.inc({ witness, outcome });
  }

  witnessCosigned(witness: string, treeSize: number, timestamp: number): void {
    this.witnessSize.set({ witness }, treeSize);
    this.witnessTimestamp.set({ witness }, timestamp);
  }
}

/**
 * GET /metrics, or nothing when metrics are off. With a token, a scrape without it is 401
 * (and `refused` records the refusal, aggregated like every other).
 */
export function metricsHandler(config: MetricsConfig, metrics: PrometheusMetrics, refused: (req: Request, reason: string) => Promise<void>): RequestHandler | undefined {
  if (config.mode === 'off') return undefined;
  const expected = config.mode === 'token' ? Buffer.from(config.token) : undefined;
  return async (req, res) => {
    if (expected) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      const given = Buffer.from(match?.[1] ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        const reason = match ? 'wrong metrics token' : 'metrics need Authorization: Bearer <LEDGER_METRICS_TOKEN>';
        await refused(req, reason);
        throw new HttpError(401, 'UNAUTHENTICATED', reason, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
      }
    }
    const body = await metrics.scrape();
    res.status(200).set('Cache-Control', 'no-store').type(metrics.registry.contentType).send(body);
  };
}
