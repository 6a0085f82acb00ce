/**
 * What an external auditor may use of a ledger: `GET /checkpoint` and the public GraphQL API,
 * nothing else. Every answer is untrusted input; this module only fetches and decodes it,
 * and the callers verify it.
 */
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
export interface ServedEvent {
  readonly leafIndex: number;
  readonly leafHash: string;
  /** Null once the event is redacted (its content crypto-shredded): only the leaf hash is left to prove. */
  readonly leaf: string | null;
  /** Absent from servers without data lifecycle. */
  readonly redacted?: boolean;
  readonly redaction?: { readonly leafIndex: number | null; readonly reason: string } | null;
  readonly id: string;
  readonly action: string;
  readonly actor: { readonly id: string; readonly type: 'USER' | 'SERVICE' | 'SYSTEM'; readonly name: string | null };
  readonly target: { readonly type: string; readonly id: string; readonly name: string | null } | null;
  readonly outcome: 'SUCCESS' | 'FAILURE' | 'DENIED';
  readonly reason: string | null;
  readonly occurredAt: string | null;
  readonly recordedAt: string;
  readonly source: { readonly ip: string | null; readonly userAgent: string | null; readonly requestId: string | null } | null;
  readonly metadata: Record<string, unknown> | null;
  readonly groups: string[];
  readonly salt: string | null;
  readonly submitter: { readonly keyId: string; readonly userId: string } | null;
}

/** An event of an export with proofs: every ExportedEvent field, and its inclusion proof. */
export type ProvenExportedEvent = ExportedEvent & { readonly inclusionProof: NonNullable<ExportedEvent['inclusionProof']> };

const EVENT_FIELDS =
  'leafIndex leafHash leaf redacted redaction { leafIndex reason } id action actor { id type name } target { type id name } outcome reason occurredAt recordedAt ' +
  'source { ip userAgent requestId } metadata groups salt submitter { keyId userId }';
/** Inclusion proofs fetched per request (as GraphQL aliases), to keep round trips few. */
const PROOFS_PER_REQUEST = 100;
/** Attempts of one request that the log rate-limits (HTTP 429 with Retry-After). */
const RATE_LIMIT_RETRIES = 4;

export class LogClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: LogClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** The latest signed checkpoint, as served at GET /checkpoint (C2SP tlog-tiles convention). */
  async latestCheckpointNote(): Promise<string> {
    const res = await this.fetch(`${this.url}/checkpoint`, { headers: { accept: 'text/plain' } });
    if (res.status !== 200) throw new LogAccessError(`GET ${this.url}/checkpoint answered HTTP ${res.status}`);
    return res.text();
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
    const url = `${this.url}/export?format=ndjson&proofs=true&treeSize=${treeSize}`;
    // The export may take minutes: time out when the server stops sending, not after a fixed time.
    const abort = new AbortController();
    let timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const touch = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(), this.timeoutMs);
    };
    try {
      const res = await this.fetch(url, { headers: { ...(this.token && { authorization: `Bearer ${this.token}` }) }, signal: abort.signal });
      if (res.status !== 200 || !res.body) throw await exportRefusal(res, this.url);
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
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          touch();
          const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
          rest = lines.pop()!;
          if (lines.length > 0) yield lines.map(parse);
        }
        rest += decoder.decode();
      } catch (err) {
        if (err instanceof LogAccessError) throw err;
        const why = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
        throw new LogAccessError(`the export from ${this.url} was cut off after ${lineNumber} events: ${abort.signal.aborted ? `nothing received for ${this.timeoutMs} ms` : why}`);
      }
      if (rest !== '') throw new LogAccessError(`the export from ${this.url} ends mid-line (cut off after ${lineNumber} events)`);
    } finally {
      clearTimeout(timer);
    }
  }

  async event(leafIndex: number): Promise<ServedEvent | null> {
    const data = await this.query<{ event: ServedEvent | null }>(`query($i: SafeInt) { event(leafIndex: $i) { ${EVENT_FIELDS} } }`, { i: leafIndex });
    return data.event ?? null;
  }

  private async query<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const res = await this.fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token && { authorization: `Bearer ${this.token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    let body: { data?: T | null; errors?: { message?: string; extensions?: { code?: string } }[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new LogAccessError(`${this.url}/graphql answered HTTP ${res.status} without a GraphQL response`);
    }
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code ? ` (${error.extensions.code})` : '';
      throw new LogAccessError(`the log refused the query: ${error.message ?? 'unknown error'}${code}`, error.extensions?.code);
    }
    if (!body.data) throw new LogAccessError(`${this.url}/graphql answered HTTP ${res.status} without data`);
    return body.data;
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    // A rate-limited answer (429) says when to come back: wait that long, a few times at most.
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (err as Error).message;
        throw new LogAccessError(`cannot reach ${url}: ${why}`);
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status !== 429 || attempt >= RATE_LIMIT_RETRIES || !(retryAfter > 0) || retryAfter > 60) return res;
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, retryAfter * 1000));
    }
  }
}

/** The log's JSON error for a refused export, as a LogAccessError carrying its code. */
async function exportRefusal(res: Response, url: string): Promise<LogAccessError> {
  const body = await res.text().catch(() => '');
  try {
    const error = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    if (error?.code) return new LogAccessError(`the log refused the export: ${error.message ?? 'no reason given'} (${error.code})`, error.code);
  } catch {
    /* not JSON */
  }
  return new LogAccessError(`${url}/export answered HTTP ${res.status} without an export`);
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
