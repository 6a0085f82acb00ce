/**
 * When to try a request again, and after how long, pure. Only failures that say nothing
 * about the request itself are retried: the network, HTTP 429 and 503, and GraphQL
 * `UNAVAILABLE`. Records are safe to resend because every event carries an idempotency key.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included (1: never retry). */
  readonly attempts: number;
  /** The delay before the first retry, doubled for each further one… */
  readonly baseDelayMs: number;
  /** …up to this. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

/** A Retry-After longer than this is not waited for: the error is surfaced instead. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** HTTP statuses that mean "not now" rather than "not this". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** GraphQL error codes that mean "not now". */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['UNAVAILABLE', 'RATE_LIMITED']);

export function retryPolicy(given: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...given };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) throw new RangeError('retry.attempts must be an integer >= 1');
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= policy.baseDelayMs)) throw new RangeError('retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs');
  return policy;
}

/**
 * The wait before retry number `retry` (1 for the first): exponential, capped, with "equal
 * jitter" (half fixed, half random), so that clients that failed together do not retry
 * together, yet each one's waits still grow. `random` returns [0, 1).
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** A Retry-After header (delay-seconds or an HTTP date) in milliseconds from `nowMs`; undefined if absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
