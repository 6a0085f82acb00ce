/**
 * GraphQL and plain GETs over HTTP to a ledger server, with an API key, retried as the retry
 * policy says. Browser-safe: the global (or an injected) `fetch`, nothing of Node. Shared by
 * the client SDK and the auditor's log client, so both read the server's answers, refusals
 * and rate limits the same way.
 */
import { apiError, LedgerApiError, type LedgerClientError, LedgerNetworkError, LedgerResponseError } from './errors';
import { backoffDelay, MAX_RETRY_AFTER_MS, RETRYABLE_CODES, RETRYABLE_STATUSES, retryAfterMs, type RetryPolicy, retryPolicy } from './retryPolicy';
import { realScheduler, type Scheduler } from './scheduler';

/** The subset of `fetch` the client uses. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** One retry about to happen: for logging. */
export interface RetryNotice {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: LedgerClientError;
}

export interface TransportOptions {
  /** The server's base URL, e.g. https://ledger.example (no trailing path). */
  readonly url: string;
  /** An API key token, sent as `Authorization: Bearer …`. */
  readonly token?: string;
  /** Defaults to the global fetch. */
  readonly fetch?: FetchLike;
  readonly retry?: Partial<RetryPolicy>;
  /** How long one attempt may wait for the server's answer (its headers, for a stream). Default 30 s. */
  readonly timeoutMs?: number;
  readonly scheduler?: Scheduler;
  /** [0, 1), for backoff jitter. Defaults to Math.random. */
  readonly random?: () => number;
  readonly onRetry?: (notice: RetryNotice) => void;
}

type Attempt<T> = { readonly value: T } | { readonly retry: LedgerClientError; readonly afterMs?: number | undefined };

interface GraphQLBody<T> {
  readonly data?: T | null;
  readonly errors?: readonly { readonly message?: string; readonly extensions?: Record<string, unknown> }[];
}

export class LedgerTransport {
  readonly url: string;
  readonly retry: RetryPolicy;
  private readonly token: string | undefined;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;
  private readonly scheduler: Scheduler;
  private readonly random: () => number;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;

  constructor(options: TransportOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    // Bound, not called as a method of this object: some fetch implementations insist on their own `this`.
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.retry = retryPolicy(options.retry);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.scheduler = options.scheduler ?? realScheduler;
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
  }

  /** Runs a GraphQL operation; its `data`, or a typed error for the first GraphQL error. */
  graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const url = `${this.url}/graphql`;
    const body = JSON.stringify({ query, variables });
    return this.withRetries(async (): Promise<Attempt<T>> => {
      const sent = await this.send(url, { method: 'POST', headers: this.headers({ 'content-type': 'application/json', accept: 'application/json' }), body });
      if ('retry' in sent) return sent;
      const { res, done } = sent;
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        return { retry: networkError(url, err, done(), this.timeoutMs) };
      }
      done();
      let answer: GraphQLBody<T>;
      try {
        answer = JSON.parse(text) as GraphQLBody<T>;
      } catch {
        const failure = new LedgerResponseError(`${url} answered HTTP ${res.status} without a GraphQL response`);
        if (RETRYABLE_STATUSES.has(res.status)) return retryAfter(failure, res, this.scheduler);
        throw failure;
      }
      const first = answer.errors?.[0];
      if (first || !res.ok) {
        const failure = first
          ? apiError(typeof first.extensions?.code === 'string' ? first.extensions.code : 'GRAPHQL_ERROR', first.message ?? 'unknown error', res.status, first.extensions)
          : errorOfBody(text, res.status, `${url} answered HTTP ${res.status}`);
        if (RETRYABLE_STATUSES.has(res.status) || RETRYABLE_CODES.has(failure.code)) return retryAfter(failure, res, this.scheduler);
        throw failure;
      }
      if (!answer.data) throw new LedgerResponseError(`${url} answered HTTP ${res.status} without data`);
      return { value: answer.data };
    });
  }

  /**
   * GETs a path; the answer once it is a success, its body unread (a stream). Only the request
   * is retried, never a body being read: a retry could repeat what the caller already took.
   */
  get(path: string, query: URLSearchParams, accept: string): Promise<Response> {
    const search = query.toString();
    const url = `${this.url}${path}${search ? `?${search}` : ''}`;
    return this.withRetries(async (): Promise<Attempt<Response>> => {
      const sent = await this.send(url, { method: 'GET', headers: this.headers({ accept }) });
      if ('retry' in sent) return sent;
      const { res, done } = sent;
      if (res.ok) {
        // Headers arrived in time: the body may take as long as the caller reads it.
        done();
        return { value: res };
      }
      let failure: LedgerClientError;
      try {
        failure = errorOfBody(await res.text(), res.status, `GET ${url} answered HTTP ${res.status}`);
      } catch (err) {
        return { retry: networkError(url, err, done(), this.timeoutMs) };
      }
      done();
      if (RETRYABLE_STATUSES.has(res.status)) return retryAfter(failure, res, this.scheduler);
      throw failure;
    });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { ...extra, ...(this.token !== undefined && { authorization: `Bearer ${this.token}` }) };
  }

  /**
   * One fetch, aborted if no answer comes within the timeout. `done()` stops the clock (and
   * says whether it had already run out).
   */
  private async send(url: string, init: RequestInit): Promise<{ res: Response; done: () => boolean } | { retry: LedgerClientError }> {
    const controller = new AbortController();
    let timedOut = false;
    const cancel = this.scheduler.setTimer(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const done = (): boolean => {
      cancel();
      return timedOut;
    };
    try {
      return { res: await this.fetchFn(url, { ...init, signal: controller.signal }), done };
    } catch (err) {
      return { retry: networkError(url, err, done(), this.timeoutMs) };
    }
  }

  private async withRetries<T>(attempt: () => Promise<Attempt<T>>): Promise<T> {
    for (let n = 1; ; n++) {
      const outcome = await attempt();
      if ('value' in outcome) return outcome.value;
      const delayMs = outcome.afterMs ?? backoffDelay(this.retry, n, this.random);
      if (n >= this.retry.attempts || delayMs > MAX_RETRY_AFTER_MS) throw outcome.retry;
      this.onRetry?.({ attempt: n, delayMs, error: outcome.retry });
      await this.scheduler.sleep(delayMs);
    }
  }
}

function retryAfter(failure: LedgerClientError, res: Response, scheduler: Scheduler): Attempt<never> {
  return { retry: failure, afterMs: retryAfterMs(res.headers.get('retry-after'), scheduler.now()) };
}

function networkError(url: string, err: unknown, timedOut: boolean, timeoutMs: number): LedgerNetworkError {
  if (timedOut) return new LedgerNetworkError(`no answer from ${url} within ${timeoutMs} ms`, { cause: err });
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new LedgerNetworkError(`cannot reach ${url}: ${why}`, { cause: err });
}

/** The server's JSON error (`{"error":{"code","message"}}`, or GraphQL's `errors`), else a code from the status. */
function errorOfBody(text: string, status: number, fallback: string): LedgerClientError {
  let body: { error?: { code?: unknown; message?: unknown }; errors?: { message?: unknown; extensions?: Record<string, unknown> }[] } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const graphqlError = body?.errors?.[0];
  if (graphqlError && typeof graphqlError.extensions?.code === 'string') {
    return apiError(graphqlError.extensions.code, String(graphqlError.message ?? fallback), status, graphqlError.extensions);
  }
  if (body?.error && typeof body.error.code === 'string') return apiError(body.error.code, String(body.error.message ?? fallback), status);
  return new LedgerApiError(`HTTP_${status}`, fallback, status);
}
