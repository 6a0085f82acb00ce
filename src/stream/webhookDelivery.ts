/**
 * Webhook delivery: at least once, in log order, per subscription from its persisted cursor.
 *
 * One worker per server; among servers sharing a database only the holder of the `webhooks`
 * lease delivers (StreamLease). Each round, for every ACTIVE subscription not waiting out a
 * backoff: scan the signed log from its cursor for matching events (a page of at most
 * `batchSize`), POST them as one JSON batch signed with the subscription's secret, and only
 * after a 2xx move the cursor past the page (compare-and-set). A crash between the 2xx and the
 * cursor write delivers that batch again: duplicates are possible, gaps and reordering are
 * not (the next batch is never sent before the previous one was acknowledged). A failure
 * schedules a retry with exponential backoff and jitter; after `maxAttempts` failures, or
 * when the batch has been failing for `maxAgeMs`, the subscription is dead-lettered (state
 * DEAD_LETTER, last error kept, `ledger.webhook.dead_lettered` recorded) until an ADMIN
 * resumes it. Between rounds the worker sleeps until the log grows past a cursor, a retry is
 * due, the API changed a subscription (`kick`), or the lease needs renewing. The HTTP call is
 * injected (`send`), so this module does no I/O of its own.
 */
import type { Logger } from '../logger';
import { systemEvent, type SelfEvent } from '../ledger/selfEvent';
import type { StreamStore } from '../storage/port';
import { eventPayload, type EventPayload } from './eventPayload';
import { type LogSource, scanPage } from './logReader';
import type { LogWatcher } from './logWatcher';
import { signatureHeader } from './signature';
import { LeasedRounds, type NextRound } from './leasedRounds';
import { StreamLease } from './streamLease';
import type { StreamMetrics } from './streamMetrics';
import { boundedError, filterOf, type SecretSeal, type SubscriptionDoc, Subscriptions } from './subscriptions';

export interface DeliveryPolicy {
  /** Events per POST at most. */
  readonly batchSize: number;
  /** Failed attempts at one batch before dead-lettering. */
  readonly maxAttempts: number;
  /** How long one batch may keep failing before dead-lettering. */
  readonly maxAgeMs: number;
  /** The first retry's delay; each further one doubles, up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** A receiver that has not answered within this is a failure. */
  readonly timeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  batchSize: 100,
  maxAttempts: 15,
  maxAgeMs: 24 * 3600_000,
  retryBaseMs: 1000,
  retryMaxMs: 10 * 60_000,
  timeoutMs: 10_000,
};

/** The body of one delivery. */
export interface WebhookBatch {
  readonly schema: 'audit-ledger.webhook.v1';
  readonly subscriptionId: string;
  readonly events: readonly EventPayload[];
}

export type Send = (url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number) => Promise<{ readonly status: number }>;

/**
 * The delay before retry number `attempts` (1: after the first failure): exponential, capped,
 * with "equal jitter" (half fixed, half random), so receivers recovering from an outage are
 * not hit by every subscription at the same instant.
 */
export function retryDelayMs(attempts: number, policy: Pick<DeliveryPolicy, 'retryBaseMs' | 'retryMaxMs'>, random: () => number = Math.random): number {
  const exponential = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export interface WebhookWorkerDeps {
  readonly store: StreamStore;
  /** Seals and opens the secrets (the keyring, with encryption at rest). */
  readonly seal?: SecretSeal;
  readonly source: LogSource;
  readonly watcher: LogWatcher;
  readonly send: Send;
  readonly record: (events: readonly SelfEvent[]) => Promise<void>;
  readonly logger: Logger;
  readonly metrics: StreamMetrics;
  readonly policy: DeliveryPolicy;
  /** This process, for the lease. */
  readonly owner: string;
  readonly leaseTtlMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Batches per subscription per round: a long backlog must not starve the lease renewal. */
const BATCHES_PER_ROUND = 20;

interface Served {
  /** When a backoff ends. */
  readonly retryAt?: number;
  /** Caught up to this leaf: wake when the log grows past it. */
  readonly caughtUpTo?: number;
}

export class WebhookWorker {
  private readonly subscriptions: Subscriptions;
  private readonly rounds: LeasedRounds;
  private readonly now: () => number;
  private readonly gauged = new Set<string>();
  /** Dead-letter events the log could not take yet. */
  private readonly unrecorded: SelfEvent[] = [];
  /** Subscriptions already reported as unreadable. */
  private readonly unreadable = new Set<string>();
  /** Whether secrets stored in plaintext before encryption at rest was on have been sealed. */
  private plaintextSealed = false;

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.now = deps.now ?? Date.now;
    this.subscriptions = new Subscriptions({ store: deps.store, ...(deps.seal && { seal: deps.seal }), signedSize: () => deps.source.signedSize(), record: deps.record });
    this.rounds = new LeasedRounds({
      lease: new StreamLease(deps.store, 'webhooks', deps.owner, deps.leaseTtlMs ?? 10_000, this.now),
      watcher: deps.watcher,
      round: () => this.round(),
      failed: (err) => {
        deps.logger.warn({ err }, 'webhook delivery round failed; retrying');
        return { wakeAt: this.now() + 1000 };
      },
      now: this.now,
    });
  }

  start(): void {
    this.rounds.start();
  }

  /** A subscription changed: look again now rather than at the next renewal. */
  kick(): void {
    this.rounds.kick();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  private async flushRecords(): Promise<void> {
    if (this.unrecorded.length === 0) return;
    const events = this.unrecorded.splice(0);
    try {
      await this.deps.record(events);
    } catch (err) {
      this.unrecorded.unshift(...events);
      this.deps.logger.error({ err, events: events.length }, 'dead-letter events not recorded yet; will retry');
    }
  }

  /** Serves every ACTIVE subscription; the next round comes when the first retry is due or the log grows past the least caught-up cursor. */
  private async round(): Promise<NextRound> {
    await this.flushRecords();
    if (!this.plaintextSealed) {
      const sealed = await this.subscriptions.sealPlaintextSecrets();
      if (sealed > 0) this.deps.logger.info({ sealed }, 'webhook secrets stored before encryption at rest was on are now sealed');
      this.plaintextSealed = true;
    }
    const all = await this.subscriptions.list((id, err) => {
      // Once per subscription and process: it stays unreadable until someone repairs the record.
      if (this.unreadable.has(id)) return;
      this.unreadable.add(id);
      this.deps.logger.error({ subscription: id, err }, 'webhook subscription cannot be read; not delivering to it');
    });
    const active = all.filter((s) => s.state === 'ACTIVE');
    for (const s of all) {
      if (s.state !== 'ACTIVE' && this.gauged.delete(s.id)) this.deps.metrics.webhookGone(s.id);
    }
    const size = await this.deps.source.signedSize();
    this.deps.watcher.observe(size);
    const served = await Promise.all(active.map((s) => this.serve(s, size)));
    const retries = served.flatMap((s) => (s.retryAt !== undefined ? [s.retryAt] : []));
    const cursors = served.flatMap((s) => (s.caughtUpTo !== undefined ? [s.caughtUpTo] : []));
    return { ...(retries.length > 0 && { wakeAt: Math.min(...retries) }), ...(cursors.length > 0 && { caughtUpTo: Math.min(...cursors) }) };
  }

  /** Delivers what one subscription is owed, up to BATCHES_PER_ROUND batches. */
  private async serve(initial: SubscriptionDoc, size: number): Promise<Served> {
    let sub = initial;
    if (sub.nextAttemptAt !== undefined && Date.parse(sub.nextAttemptAt) > this.now()) return { retryAt: Date.parse(sub.nextAttemptAt) };
    for (let n = 0; n < BATCHES_PER_ROUND && !this.rounds.stopped; n++) {
      const page = await scanPage(this.deps.source, filterOf(sub), sub.cursor, this.deps.policy.batchSize, size);
      this.gauged.add(sub.id);
      this.deps.metrics.webhookBacklogIs(sub.id, Math.max(0, size - page.scannedTo));
      if (page.events.length === 0) {
        if (page.scannedTo > sub.cursor) await this.advance(sub, page.scannedTo, 0);
        return { caughtUpTo: page.scannedTo };
      }
      const body = JSON.stringify({ schema: 'audit-ledger.webhook.v1', subscriptionId: sub.id, events: page.events.map(eventPayload) } satisfies WebhookBatch);
      const first = page.events[0]!.leafIndex;
      const last = page.events.at(-1)!.leafIndex;
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'audit-ledger-webhook/1',
        'x-ledger-subscription': sub.id,
        'x-ledger-delivery': `${sub.id}:${first}-${last}`,
        'x-ledger-signature': signatureHeader(sub.secret, body, Math.floor(this.now() / 1000)),
      };
      let failure: string | undefined;
      try {
        const answer = await this.deps.send(sub.url, body, headers, this.deps.policy.timeoutMs);
        if (answer.status < 200 || answer.status > 299) failure = `HTTP ${answer.status}`;
      } catch (err) {
        failure = err instanceof Error ? `${err.message}${causeOf(err)}` : String(err);
      }
      if (failure !== undefined) return this.failed(sub, failure);
      const at = this.now();
      this.deps.metrics.webhookDelivered(
        sub.id,
        page.events.map((e) => (at - e.recordedAt.getTime()) / 1000),
      );
      const moved = await this.advance(sub, page.scannedTo, page.events.length);
      if (!moved || moved.state !== 'ACTIVE') return {};
      sub = moved;
      if (page.scannedTo >= size) return { caughtUpTo: size };
    }
    // More to deliver: come straight back.
    return { retryAt: this.now() };
  }

  private advance(sub: SubscriptionDoc, to: number, delivered: number): Promise<SubscriptionDoc | undefined> {
    const at = new Date(this.now()).toISOString();
    return this.subscriptions.mutate(sub.id, (doc) => {
      if (doc.cursor >= to && delivered === 0) return undefined;
      const { nextAttemptAt: _n, firstFailureAt: _f, ...rest } = doc;
      return {
        ...rest,
        cursor: Math.max(doc.cursor, to),
        attempts: 0,
        ...(delivered > 0 && { deliveredEvents: doc.deliveredEvents + delivered, lastDeliveredAt: at }),
      };
    });
  }

  private async failed(sub: SubscriptionDoc, error: string): Promise<Served> {
    const now = this.now();
    const policy = this.deps.policy;
    const attempts = sub.attempts + 1;
    const firstFailureAt = sub.firstFailureAt ?? new Date(now).toISOString();
    const dead = attempts >= policy.maxAttempts || now - Date.parse(firstFailureAt) >= policy.maxAgeMs;
    const lastError = boundedError(error);
    const at = new Date(now).toISOString();
    this.deps.metrics.webhookFailed(sub.id, dead);
    this.deps.logger.warn({ subscription: sub.id, attempts, error: lastError, deadLetter: dead }, 'webhook delivery failed');
    if (dead) {
      const stopped = await this.subscriptions.mutate(sub.id, (doc) =>
        doc.state !== 'ACTIVE' || doc.cursor !== sub.cursor
          ? undefined
          : { ...doc, state: 'DEAD_LETTER', attempts, firstFailureAt, lastError, lastErrorAt: at, deadLetteredAt: at, updatedAt: at },
      );
      if (this.gauged.delete(sub.id)) this.deps.metrics.webhookGone(sub.id);
      // Recorded once the state is visible, so whoever reads the event finds the subscription
      // dead-lettered; if the log cannot take it now, every later round tries again.
      if (stopped) {
        this.unrecorded.push(
          systemEvent('ledger.webhook.dead_lettered', { type: 'webhook', id: sub.id }, { url: sub.url, cursor: sub.cursor, attempts, lastError, firstFailureAt }, 'FAILURE'),
        );
        await this.flushRecords();
      }
      return {};
    }
    const retryAt = now + retryDelayMs(attempts, policy, this.deps.random);
    await this.subscriptions.mutate(sub.id, (doc) =>
      doc.state !== 'ACTIVE' || doc.cursor !== sub.cursor
        ? undefined
        : { ...doc, attempts, firstFailureAt, lastError, lastErrorAt: at, nextAttemptAt: new Date(retryAt).toISOString() },
    );
    return { retryAt };
  }
}

function causeOf(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) return `: ${cause.message}`;
  return '';
}
