/**
 * The client a service records through, and a reader reads through: records with automatic
 * idempotency keys, batched and retried; receipts verified offline; events paged; exports
 * streamed.
 */
import { bytesToHex } from '../verify';
import { randomBytes } from '@noble/hashes/utils.js';
import type { ExportedEvent } from '../export/exportedEvent';
import { LedgerResponseError } from './errors';
import { EVENT_FIELDS, type EventFilter, type EventInput, type LedgerEvent, type RecordedLeaf } from './event';
import { lines } from './lines';
import { type Receipt, RECEIPT_FIELDS, type ReceiptVerificationOptions, verifyReceipt } from './receipt';
import { type BatchOptions, DEFAULT_BATCH, RecordBatcher } from './recordBatcher';
import { realScheduler } from './scheduler';
import { LedgerTransport, type TransportOptions } from './transport';

export interface LedgerClientOptions extends TransportOptions {
  /** How `record` calls are batched (default 500 events or 10 ms). */
  readonly batch?: Partial<BatchOptions>;
}

export type EventOrder = 'OLDEST_FIRST' | 'NEWEST_FIRST';

export interface EventsOptions {
  /** Events per request, 1-500 (default 500). */
  readonly pageSize?: number;
  readonly order?: EventOrder;
}

/** An export's filter: the events filter, and at most `limit` events. */
export interface ExportFilter extends EventFilter {
  readonly limit?: number;
}

export type ExportFormat = 'ndjson' | 'csv' | 'bundle';

/** The most events the server takes in one `recordEvents` call. */
export const MAX_EVENTS_PER_CALL = 10_000;

const RECORD_EVENTS = `mutation($inputs: [EventInput!]!) { recordEvents(inputs: $inputs) { ${RECEIPT_FIELDS} } }`;
const EVENTS = `query($filter: EventFilter, $first: Int, $after: String, $order: EventOrder) {
  events(filter: $filter, first: $first, after: $after, order: $order) { edges { node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;

interface EventsAnswer {
  readonly events?: { readonly edges?: readonly { readonly node: LedgerEvent }[]; readonly pageInfo?: { readonly hasNextPage: boolean; readonly endCursor: string | null } };
}

export class LedgerClient {
  private readonly transport: LedgerTransport;
  private readonly batcher: RecordBatcher;

  constructor(options: LedgerClientOptions) {
    this.transport = new LedgerTransport(options);
    this.batcher = new RecordBatcher({ ...DEFAULT_BATCH, ...options.batch }, options.scheduler ?? realScheduler, (inputs) => this.send(inputs));
  }

  get url(): string {
    return this.transport.url;
  }

  /**
   * Records one event; resolves with its receipt once it is stored and covered by a signed
   * checkpoint. Calls made close together share one request.
   */
  record(event: EventInput): Promise<Receipt> {
    return this.batcher.add(prepared(event));
  }

  /**
   * Records events in order, all or nothing per request of up to 10,000 (more are sent as
   * several requests, one after the other), without waiting for other `record` calls.
   */
  async recordMany(events: readonly EventInput[]): Promise<Receipt[]> {
    const inputs = events.map(prepared);
    const receipts: Receipt[] = [];
    for (let i = 0; i < inputs.length; i += MAX_EVENTS_PER_CALL) receipts.push(...(await this.send(inputs.slice(i, i + MAX_EVENTS_PER_CALL))));
    return receipts;
  }

  /** Sends the `record` calls waiting for their batch now, and waits for every batch sent so far. */
  flush(): Promise<void> {
    return this.batcher.flush();
  }

  /** See `verifyReceipt`: no request is made. */
  verifyReceipt(receipt: Receipt, verifierKey: string, options?: ReceiptVerificationOptions): RecordedLeaf {
    return verifyReceipt(receipt, verifierKey, options);
  }

  /** The log's origin and verifier key as this server states them (pin the key from a channel you trust). */
  async logInfo(): Promise<{ origin: string; verifierKey: string }> {
    const data = await this.transport.graphql<{ logInfo?: { origin: string; verifierKey: string } }>('{ logInfo { origin verifierKey } }', {});
    if (!data.logInfo) throw new LedgerResponseError('the logInfo answer is malformed');
    return data.logInfo;
  }

  /** The events the API key may read that match the filter, page by page (READER or AUDITOR). */
  async *events(filter: EventFilter = {}, options: EventsOptions = {}): AsyncGenerator<LedgerEvent, void, undefined> {
    let after: string | null = null;
    do {
      const data: EventsAnswer = await this.transport.graphql<EventsAnswer>(EVENTS, {
        filter,
        first: options.pageSize ?? 500,
        after,
        order: options.order ?? 'OLDEST_FIRST',
      });
      const page = data.events;
      if (!page || !Array.isArray(page.edges) || !page.pageInfo) throw new LedgerResponseError('the events answer is malformed');
      for (const edge of page.edges) yield edge.node;
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after !== null);
  }

  /**
   * Streams `GET /export`: NDJSON (the default) as one object per event, in log order; CSV as
   * its lines (the header first); an evidence bundle (JSON Lines) as its lines, each with its
   * "\n", so that they join into the bundle's text and can be given as they come to
   * `verifyBundleStream`. Only the request is retried: a stream that breaks off throws
   * `LedgerNetworkError`.
   */
  export(filter?: ExportFilter, options?: { readonly format?: 'ndjson' }): AsyncGenerator<ExportedEvent, void, undefined>;
  export(filter: ExportFilter | undefined, options: { readonly format: 'csv' }): AsyncGenerator<string, void, undefined>;
  export(filter: ExportFilter | undefined, options: { readonly format: 'bundle' }): AsyncGenerator<string, void, undefined>;
  export(filter: ExportFilter = {}, options: { readonly format?: ExportFormat } = {}): AsyncGenerator<unknown, void, undefined> {
    // A filter that cannot be sent throws here, not at the first read.
    const query = exportQuery(filter);
    const format = options.format ?? 'ndjson';
    query.set('format', format);
    return this.exportStream(query, format);
  }

  private async *exportStream(query: URLSearchParams, format: ExportFormat): AsyncGenerator<unknown, void, undefined> {
    const accept = { ndjson: 'application/x-ndjson', csv: 'text/csv', bundle: 'application/x-ndjson' }[format];
    const res = await this.transport.get('/export', query, accept);
    if (!res.body) throw new LedgerResponseError('the export answer has no body');
    const what = `the export from ${this.url}`;
    if (format === 'csv') {
      for await (const line of lines(res.body, what)) if (line.terminated || line.text !== '') yield line.text;
      return;
    }
    if (format === 'bundle') {
      // Left to the verifier: a line cut short or a missing end line is what it names.
      for await (const line of lines(res.body, what)) yield line.terminated ? `${line.text}\n` : line.text;
      return;
    }
    for await (const line of lines(res.body, what)) {
      if (line.text.trim() === '') continue;
      yield parseJson(line.text, line.terminated ? `${what} holds a line that is not JSON` : `${what} ended in the middle of a line`);
    }
  }

  private async send(inputs: EventInput[]): Promise<Receipt[]> {
    const data = await this.transport.graphql<{ recordEvents?: Receipt[] }>(RECORD_EVENTS, { inputs });
    if (!Array.isArray(data.recordEvents) || data.recordEvents.length !== inputs.length) {
      throw new LedgerResponseError(`asked to record ${inputs.length} events, the server answered ${String(data.recordEvents?.length)} receipts`);
    }
    return data.recordEvents;
  }
}

/**
 * The event as it will be sent on every attempt: a snapshot (a caller changing its object
 * later cannot make a retry differ from the first attempt, which the server would refuse as
 * a conflicting reuse of the key), with an idempotency key of its own unless one was given.
 */
function prepared(event: EventInput): EventInput {
  const snapshot = JSON.parse(JSON.stringify(event)) as EventInput;
  return snapshot.idempotencyKey !== undefined ? snapshot : { ...snapshot, idempotencyKey: newIdempotencyKey() };
}

/** 128 random bits: two services never pick the same key, and the server scopes keys per API key anyway. */
function newIdempotencyKey(): string {
  return `sdk-${bytesToHex(randomBytes(16))}`;
}

/** The export endpoint's query parameters for a filter (its names: `groupId` repeated, `since`/`until`, `action` with a `*` prefix). */
function exportQuery(filter: ExportFilter): URLSearchParams {
  if (filter.action !== undefined && filter.actionPrefix !== undefined) throw new TypeError('give action or actionPrefix, not both');
  const query = new URLSearchParams();
  for (const group of filter.groupIds ?? []) query.append('groupId', group);
  const time = (t: Date | string) => (t instanceof Date ? t.toISOString() : t);
  const single: [string, string | undefined][] = [
    ['actorId', filter.actorId],
    ['action', filter.actionPrefix !== undefined ? `${filter.actionPrefix}*` : filter.action],
    ['targetType', filter.targetType],
    ['targetId', filter.targetId],
    ['outcome', filter.outcome],
    ['since', filter.from !== undefined ? time(filter.from) : undefined],
    ['until', filter.to !== undefined ? time(filter.to) : undefined],
    ['limit', filter.limit !== undefined ? String(filter.limit) : undefined],
  ];
  for (const [name, value] of single) if (value !== undefined) query.set(name, value);
  return query;
}

function parseJson(text: string, problem: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new LedgerResponseError(problem);
  }
}
