/**
 * What an external auditor may use of a ledger: `GET /checkpoint` and the public GraphQL API,
 * nothing else. Every answer is untrusted input; this module only fetches and decodes it,
 * and the callers verify it.
 */
import { LedgerApiError, LedgerClientError } from '../client/errors';
import { EVENT_FIELDS, type LedgerEvent } from '../client/event';
import { LedgerTransport } from '../client/transport';
import { hexToBytes } from '../verify';

/** The log could not be reached, or answered something other than what the API promises. */
export class LogAccessError extends Error {
  override readonly name = 'LogAccessError';
  constructor(
    message: string,
    /** The GraphQL error code, when the log refused a query. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface LogClientOptions {
  /** The server's base URL, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  /** API key for private logs and for reading events. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

export interface ServedProof {
  readonly hashes: Uint8Array[];
  /** The signed note of the checkpoint the proof leads to. */
  readonly checkpointNote: string;
}

export interface ServedInclusion {
  readonly leafIndex: number;
  readonly leafHash: Uint8Array;
  readonly hashes: Uint8Array[];
}

/** An event as the API serves it (nulls for absent optional fields). */
export type ServedEvent = LedgerEvent;

export interface EventPage {
  readonly events: ServedEvent[];
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

/** Inclusion proofs fetched per request (as GraphQL aliases), to keep round trips few. */
const PROOFS_PER_REQUEST = 100;
/** Attempts of one request (network errors, HTTP 429 and 503, UNAVAILABLE; Retry-After honoured). */
const RETRY = { attempts: 4, baseDelayMs: 250, maxDelayMs: 2000 };

export class LogClient {
  readonly url: string;
  readonly hasToken: boolean;
  private readonly transport: LedgerTransport;

  constructor(options: LogClientOptions) {
    this.transport = new LedgerTransport({ ...options, retry: RETRY });
    this.url = this.transport.url;
    this.hasToken = options.token !== undefined;
  }

  /** The latest signed checkpoint, as served at GET /checkpoint (C2SP tlog-tiles convention). */
  async latestCheckpointNote(): Promise<string> {
    try {
      const res = await this.transport.get('/checkpoint', new URLSearchParams(), 'text/plain');
      if (res.status !== 200) throw new LogAccessError(`GET ${this.url}/checkpoint answered HTTP ${res.status}`);
      return await res.text();
    } catch (err) {
      if (err instanceof LedgerApiError) throw new LogAccessError(`GET ${this.url}/checkpoint answered HTTP ${err.status}`, err.code);
      throw accessError(err);
    }
  }

  async consistencyProof(fromSize: number, toSize: number): Promise<ServedProof> {
    const data = await this.query<{ consistencyProof: { hashes: unknown; checkpoint: { note: unknown } } }>(
      'query($f: SafeInt!, $t: SafeInt) { consistencyProof(fromSize: $f, toSize: $t) { hashes checkpoint { note } } }',
      { f: fromSize, t: toSize },
    );
    const proof = data.consistencyProof;
    return { hashes: hexList(proof?.hashes, 'consistencyProof.hashes'), checkpointNote: text(proof?.checkpoint?.note, 'checkpoint.note') };
  }

  /** Inclusion proofs of `leafIndices` in the tree of `treeSize` leaves, in the same order. */
  async inclusionProofs(leafIndices: readonly number[], treeSize: number): Promise<ServedInclusion[]> {
    const out: ServedInclusion[] = [];
    for (let i = 0; i < leafIndices.length; i += PROOFS_PER_REQUEST) {
      const chunk = leafIndices.slice(i, i + PROOFS_PER_REQUEST);
      const fields = chunk.map((index, k) => `p${k}: inclusionProof(leafIndex: ${index}, treeSize: $t) { leafIndex leafHash hashes }`);
      const data = await this.query<Record<string, { leafIndex: unknown; leafHash: unknown; hashes: unknown } | undefined>>(
        `query($t: SafeInt!) { ${fields.join(' ')} }`,
        { t: treeSize },
      );
      chunk.forEach((index, k) => {
        const proof = data[`p${k}`];
        if (!proof || proof.leafIndex !== index) throw new LogAccessError(`the inclusion proof of leaf ${index} is missing from the answer`);
        out.push({ leafIndex: index, leafHash: hex(proof.leafHash, 'leafHash'), hashes: hexList(proof.hashes, 'inclusionProof.hashes') });
      });
    }
    return out;
  }

  async eventsPage(after: string | null, first: number): Promise<EventPage> {
    const data = await this.query<{ events: { edges: { node: ServedEvent }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } }>(
      `query($after: String, $first: Int) { events(after: $after, first: $first) { edges { node { ${EVENT_FIELDS} } } pageInfo { endCursor hasNextPage } } }`,
      { after, first },
    );
    const events = data.events;
    if (!events || !Array.isArray(events.edges)) throw new LogAccessError('the events answer is malformed');
    return { events: events.edges.map((e) => e.node), endCursor: events.pageInfo.endCursor, hasNextPage: events.pageInfo.hasNextPage === true };
  }

  async event(leafIndex: number): Promise<ServedEvent | null> {
    const data = await this.query<{ event: ServedEvent | null }>(`query($i: SafeInt) { event(leafIndex: $i) { ${EVENT_FIELDS} } }`, { i: leafIndex });
    return data.event ?? null;
  }

  private async query<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    try {
      return await this.transport.graphql<T>(query, variables);
    } catch (err) {
      if (err instanceof LedgerApiError) throw new LogAccessError(`the log refused the query: ${err.message} (${err.code})`, err.code);
      throw accessError(err);
    }
  }
}

/** The shared transport's failures as this client's; anything else (a bug) as it is. */
function accessError(err: unknown): unknown {
  return err instanceof LedgerClientError ? new LogAccessError(err.message) : err;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new LogAccessError(`the log's answer lacks ${what}`);
  return value;
}

function hex(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^([0-9a-f]{2})*$/.test(value)) throw new LogAccessError(`the log's ${what} is not lowercase hex`);
  return hexToBytes(value);
}

function hexList(value: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(value)) throw new LogAccessError(`the log's answer lacks ${what}`);
  return value.map((v) => hex(v, what));
}
