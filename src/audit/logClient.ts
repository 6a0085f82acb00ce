/**
 * What an external auditor may use of a ledger: `GET /checkpoint` and the public GraphQL API,
 * nothing else. Every answer is untrusted input; this module only fetches and decodes it,
 * and the callers verify it.
 */
import { LedgerApiError, LedgerClientError } from '../client/errors';
import { EVENT_FIELDS, type LedgerEvent } from '../client/event';
import { LedgerTransport } from '../client/transport';
import type { ExportedEvent } from '../export/exportedEvent';
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

/** An event of an export with proofs: every ExportedEvent field, and its inclusion proof. */
export type ProvenExportedEvent = ExportedEvent & { readonly inclusionProof: NonNullable<ExportedEvent['inclusionProof']> };

/** The transport's own default wait for an answer, used here for a stream gone quiet. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** Inclusion proofs fetched per request (as GraphQL aliases), to keep round trips few. */
const PROOFS_PER_REQUEST = 100;
/** Attempts of one request (network errors, HTTP 429 and 503, UNAVAILABLE; Retry-After honoured). */
const RETRY = { attempts: 4, baseDelayMs: 250, maxDelayMs: 2000 };

export class LogClient {
  readonly url: string;
  readonly hasToken: boolean;
  private readonly transport: LedgerTransport;
  /** How long a streamed export may go without a byte before it counts as cut off. */
  private readonly timeoutMs: number;

  constructor(options: LogClientOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
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

  /**
   * Every event the key may read in the tree of `treeSize` leaves, oldest first, each with its
   * inclusion proof in that tree: one `GET /export` (so one read in the ledger's own log),
   * streamed and handed out in the batches the network delivers. A response cut off mid-way
   * is an error, never a shorter answer.
   */
  async *exportedEvents(treeSize: number): AsyncGenerator<ProvenExportedEvent[]> {
    let res: Response;
    try {
      res = await this.transport.get('/export', new URLSearchParams({ format: 'ndjson', proofs: 'true', treeSize: String(treeSize) }), 'application/x-ndjson');
    } catch (err) {
      if (err instanceof LedgerApiError) throw new LogAccessError(`the log refused the export: ${err.message} (${err.code})`, err.code);
      throw accessError(err);
    }
    if (!res.body) throw new LogAccessError(`${this.url}/export answered HTTP ${res.status} without an export`);
    // The export may take minutes: give up when the server stops sending, not after a fixed time.
    const reader = res.body.getReader();
    let idle = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const touch = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        void reader.cancel().catch(() => undefined);
      }, this.timeoutMs);
    };
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let rest = '';
    let lineNumber = 0;
    const parse = (line: string): ProvenExportedEvent => {
      lineNumber++;
      try {
        const event = JSON.parse(line) as ProvenExportedEvent;
        if (typeof event === 'object' && event !== null && typeof event.leafIndex === 'number') return event;
      } catch {
        /* described below */
      }
      throw new LogAccessError(`line ${lineNumber} of the export is not an event`);
    };
    const cutOff = (why: string): LogAccessError => new LogAccessError(`the export from ${this.url} was cut off after ${lineNumber} events: ${why}`);
    try {
      touch();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          throw cutOff((err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message);
        }
        if (idle) throw cutOff(`nothing received for ${this.timeoutMs} ms`);
        if (chunk.done) break;
        touch();
        let lines: string[];
        try {
          lines = (rest + decoder.decode(chunk.value, { stream: true })).split('\n');
        } catch (err) {
          throw cutOff((err as Error).message);
        }
        rest = lines.pop()!;
        if (lines.length > 0) yield lines.map(parse);
      }
      rest += decoder.decode();
      if (rest !== '') throw new LogAccessError(`the export from ${this.url} ends mid-line (cut off after ${lineNumber} events)`);
    } finally {
      clearTimeout(timer);
      reader.releaseLock();
    }
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
