/**
 * Webhook subscriptions: what an ADMIN creates, pauses, resumes and deletes (softly: a state,
 * never a removal), and what the delivery worker advances. One record per subscription in the
 * port's stream store, changed only by compare-and-set (`mutate`), so an administrator's state
 * change and the worker's cursor never undo each other. Every administrative change is
 * recorded in the ledger before it is made: a change the log does not show never happens.
 *
 * With encryption at rest the HMAC secret is stored sealed (`sealedSecret`) and opened on
 * every read; a record stored in plaintext before encryption was turned on still reads, and
 * is sealed by its next write (and by `sealPlaintextSecrets`, which the delivery worker runs
 * once when it starts, so paused and deleted subscriptions are sealed too).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { JsonObject } from '../event/eventRecord';
import { LedgerError } from '../errors';
import type { SelfEvent } from '../ledger/selfEvent';
import type { EventQuery, StreamStore } from '../storage/port';
import { filterJson, parseFilter } from './eventFilter';

export type SubscriptionState = 'ACTIVE' | 'PAUSED' | 'DEAD_LETTER' | 'DELETED';

export interface SubscriptionDoc {
  readonly id: string;
  readonly url: string;
  /** The HMAC key. Never leaves the server after creation, never recorded in an event. */
  readonly secret: string;
  /** The filter, as JSON (eventFilter.filterJson). */
  readonly filter: JsonObject;
  readonly state: SubscriptionState;
  readonly createdAt: string;
  /** The API key id that created it. */
  readonly createdBy: string;
  readonly updatedAt: string;
  /** Every leaf below this has been delivered or did not match: where delivery resumes. */
  readonly cursor: number;
  /** Failed attempts at the current batch (0 after a success). */
  readonly attempts: number;
  readonly firstFailureAt?: string;
  readonly nextAttemptAt?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  readonly deadLetteredAt?: string;
  readonly deliveredEvents: number;
  readonly lastDeliveredAt?: string;
}

export class WebhookInputError extends LedgerError {
  override name = 'WebhookInputError';
  constructor(
    readonly field: string | undefined,
    message: string,
  ) {
    super('BAD_INPUT', message);
  }
}

export const SECRET_LENGTH = { min: 24, max: 256 } as const;
const URL_MAX = 2048;
const ERROR_MAX = 512;
const LIST_PAGE = 500;

export interface NewSubscription {
  readonly url: string;
  /** Raw filter (GraphQL input). */
  readonly filter: Parameters<typeof parseFilter>[0];
  /** Given by the caller, or generated (and answered once). */
  readonly secret?: string;
  /** First leaf to consider; default: the signed size now (events from now on). */
  readonly fromLeafIndex?: number;
}

/** Seals and opens secrets for storage (the ledger's keyring; absent without encryption at rest). */
export interface SecretSeal {
  sealSecret(purpose: string, secret: string): string;
  /** Throws when the sealed secret does not open under these keys. */
  openSecret(purpose: string, sealed: string): string;
}

/** What the store holds: the secret in plaintext (no encryption at rest, or stored before it was on), or sealed. */
type StoredSubscription = Omit<SubscriptionDoc, 'secret'> & { readonly secret?: string; readonly sealedSecret?: string };

export interface SubscriptionsDeps {
  readonly store: StreamStore;
  readonly seal?: SecretSeal;
  readonly signedSize: () => Promise<number>;
  readonly record: (events: readonly SelfEvent[]) => Promise<void>;
}

/** What is recorded about a change: never the secret. */
export function subscriptionMetadata(doc: SubscriptionDoc): JsonObject {
  return { url: doc.url, filter: doc.filter, state: doc.state, cursor: doc.cursor };
}

export function filterOf(doc: SubscriptionDoc): EventQuery {
  return parseFilter(doc.filter);
}

export class Subscriptions {
  constructor(private readonly deps: SubscriptionsDeps) {}

  /** Validates, records `ledger.webhook.created` (via `event`), then stores. Answers the secret once. */
  async create(input: NewSubscription, createdBy: string, event: (doc: SubscriptionDoc) => SelfEvent): Promise<{ doc: SubscriptionDoc; secret: string }> {
    const url = checkUrl(input.url);
    const filter = filterJson(parseFilter(input.filter, 'filter.'));
    const secret = input.secret ?? `whsec_${randomBytes(32).toString('base64url')}`;
    if (secret.length < SECRET_LENGTH.min || secret.length > SECRET_LENGTH.max || !/^[\x21-\x7e]+$/.test(secret)) {
      throw new WebhookInputError('secret', `secret must be ${SECRET_LENGTH.min}-${SECRET_LENGTH.max} printable characters without spaces (or omitted: one is generated)`);
    }
    const size = await this.deps.signedSize();
    const from = input.fromLeafIndex ?? size;
    if (!Number.isSafeInteger(from) || from < 0 || from > size) throw new WebhookInputError('fromLeafIndex', `fromLeafIndex must be 0-${size} (the signed size)`);
    const now = new Date().toISOString();
    const doc: SubscriptionDoc = {
      id: randomUUID(),
      url,
      secret,
      filter,
      state: 'ACTIVE',
      createdAt: now,
      createdBy,
      updatedAt: now,
      cursor: from,
      attempts: 0,
      deliveredEvents: 0,
    };
    await this.deps.record([event(doc)]);
    if (!(await this.deps.store.insert('subscription', doc.id, this.encode(doc)))) throw new LedgerError('INTERNAL', `subscription id ${doc.id} is taken`);
    return { doc, secret };
  }

  async get(id: string): Promise<SubscriptionDoc | undefined> {
    const record = await this.deps.store.get('subscription', id);
    return record ? this.decode(record.value) : undefined;
  }

  /**
   * Every subscription, deleted ones included (oldest id first). A record whose sealed secret
   * does not open throws, or, given `unreadable`, is reported there and left out (so the
   * delivery worker keeps serving the others).
   */
  async list(unreadable?: (id: string, err: LedgerError) => void): Promise<SubscriptionDoc[]> {
    const out: SubscriptionDoc[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.store.list('subscription', { ...(after !== undefined && { after }), limit: LIST_PAGE });
      for (const r of page) {
        try {
          out.push(this.decode(r.value));
        } catch (err) {
          if (!unreadable || !(err instanceof LedgerError)) throw err;
          unreadable(r.id, err);
        }
      }
      if (page.length < LIST_PAGE) return out;
      after = page.at(-1)!.id;
    }
  }

  /** An administrator's state change: checked, recorded, then applied. */
  async change(id: string, change: 'pause' | 'resume' | 'delete', event: (doc: SubscriptionDoc) => SelfEvent): Promise<SubscriptionDoc> {
    const current = await this.get(id);
    if (!current) throw new WebhookInputError('id', `no webhook subscription ${id}`);
    const problem = transitionProblem(current.state, change);
    if (problem) throw new WebhookInputError('id', problem);
    const next = (doc: SubscriptionDoc): SubscriptionDoc => {
      const updatedAt = new Date().toISOString();
      if (change === 'pause') return { ...doc, state: 'PAUSED', updatedAt };
      if (change === 'delete') return { ...doc, state: 'DELETED', updatedAt };
      // Resuming starts the failed batch afresh: the receiver is presumed fixed.
      const { nextAttemptAt: _n, firstFailureAt: _f, deadLetteredAt: _d, ...rest } = doc;
      return { ...rest, state: 'ACTIVE', attempts: 0, updatedAt };
    };
    await this.deps.record([event(next(current))]);
    const changed = await this.mutate(id, (doc) => (transitionProblem(doc.state, change) ? undefined : next(doc)));
    if (!changed) throw new WebhookInputError('id', `webhook subscription ${id} changed meanwhile; read it again`);
    return changed;
  }

  /**
   * Applies `change` by compare-and-set, re-reading and retrying when another writer came
   * first. `change` answers undefined to leave the record as it is. Answers the stored result.
   */
  async mutate(id: string, change: (doc: SubscriptionDoc) => SubscriptionDoc | undefined): Promise<SubscriptionDoc | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const record = await this.deps.store.get('subscription', id);
      if (!record) return undefined;
      const next = change(this.decode(record.value));
      if (!next) return undefined;
      if (await this.deps.store.update('subscription', id, record.version, this.encode(next))) return next;
    }
    throw new LedgerError('UNAVAILABLE', `webhook subscription ${id} is being changed too often to update`);
  }

  /**
   * Seals every secret still stored in plaintext (subscriptions created before encryption at
   * rest was turned on). Answers how many were sealed; nothing to do without encryption.
   */
  async sealPlaintextSecrets(): Promise<number> {
    if (!this.deps.seal) return 0;
    let sealed = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.store.list('subscription', { ...(after !== undefined && { after }), limit: LIST_PAGE });
      for (const record of page) {
        if ((JSON.parse(record.value) as StoredSubscription).sealedSecret !== undefined) continue;
        // The write re-encodes the record, which seals the secret.
        if (await this.mutate(record.id, (doc) => doc)) sealed++;
      }
      if (page.length < LIST_PAGE) return sealed;
      after = page.at(-1)!.id;
    }
  }

  private encode(doc: SubscriptionDoc): string {
    const seal = this.deps.seal;
    if (!seal) return JSON.stringify(doc);
    const { secret, ...rest } = doc;
    return JSON.stringify({ ...rest, sealedSecret: seal.sealSecret(secretPurpose(doc.id), secret) } satisfies StoredSubscription);
  }

  private decode(value: string): SubscriptionDoc {
    const { sealedSecret, secret, ...rest } = JSON.parse(value) as StoredSubscription;
    if (sealedSecret === undefined) {
      if (secret === undefined) throw new LedgerError('INTERNAL', `webhook subscription ${rest.id} is stored without a secret`);
      return { ...rest, secret };
    }
    if (!this.deps.seal) throw new LedgerError('KEY_CONFIGURATION', `webhook subscription ${rest.id} has a sealed secret, but encryption at rest is off: start with the ledger's key-encryption key`);
    try {
      return { ...rest, secret: this.deps.seal.openSecret(secretPurpose(rest.id), sealedSecret) };
    } catch (err) {
      throw new LedgerError('CORRUPT', `webhook subscription ${rest.id}: its sealed secret does not open under this ledger's keys (an edited or copied record?)`, { cause: err });
    }
  }
}

/** Binds a sealed secret to its subscription: copied onto another record, it does not open. */
function secretPurpose(id: string): string {
  return `webhook:${id}`;
}

export function transitionProblem(state: SubscriptionState, change: 'pause' | 'resume' | 'delete'): string | undefined {
  if (state === 'DELETED') return 'the subscription is deleted';
  if (change === 'pause' && state === 'PAUSED') return 'the subscription is already paused';
  if (change === 'resume' && state === 'ACTIVE') return 'the subscription is already active';
  return undefined;
}

function checkUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookInputError('url', 'url must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookInputError('url', 'url must be an absolute http:// or https:// URL');
  // The URL is recorded in the log: credentials in it would be too.
  if (url.username !== '' || url.password !== '') throw new WebhookInputError('url', 'url must not carry credentials: the receiver checks the signature instead');
  if (raw.length > URL_MAX) throw new WebhookInputError('url', `url must be at most ${URL_MAX} characters`);
  return url.toString();
}

export function boundedError(message: string): string {
  return message.length > ERROR_MAX ? `${message.slice(0, ERROR_MAX - 1)}…` : message;
}
