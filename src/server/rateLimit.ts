/**
 * Token-bucket rate limits, in memory, per key (an API key id or a client address). Pure: the
 * clock is injected, nothing here does I/O, so tests drive time by hand.
 *
 * A bucket holds at most `burst` tokens and refills at `ratePerSecond`; a request takes one.
 * Memory is bounded: past `maxKeys` buckets, full ones (idle long enough to have refilled) are
 * dropped first, then the oldest; dropping a bucket can only ever let its owner through sooner.
 */
import net from 'node:net';

export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export type Clock = () => number;

export type Admit = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/** A request refused by a rate limit: HTTP 429 with Retry-After. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: 'key' | 'address',
  ) {
    super(`rate limit exceeded; retry after ${retryAfterSeconds} s`);
  }
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: RateLimit,
    private readonly now: Clock = Date.now,
    private readonly maxKeys = 100_000,
  ) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) throw new RangeError('a rate limit needs ratePerSecond > 0 and burst >= 1');
  }

  /** Takes one token for `key`, or says how long until one is available. */
  take(key: string): Admit {
    const bucket = this.refilled(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: this.secondsUntilToken(bucket) };
  }

  /** Whether `key` has a token now, without taking it. */
  peek(key: string): Admit {
    const bucket = this.buckets.get(key);
    if (!bucket) return { allowed: true };
    const tokens = Math.min(this.limit.burst, bucket.tokens + this.refill(bucket));
    return tokens >= 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: this.secondsUntilToken({ tokens, updatedAt: this.now() }) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket): number {
    return (Math.max(0, this.now() - bucket.updatedAt) / 1000) * this.limit.ratePerSecond;
  }

  private refilled(key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.evict();
      bucket = { tokens: this.limit.burst, updatedAt: this.now() };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + this.refill(bucket));
    bucket.updatedAt = this.now();
    return bucket;
  }

  /** Whole seconds (Retry-After's unit), at least 1. */
  private secondsUntilToken(bucket: Bucket): number {
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.ratePerSecond));
  }

  private evict(): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + this.refill(bucket) >= this.limit.burst) this.buckets.delete(key);
    }
    // Still full of active buckets: drop the oldest tenth (Map iterates in insertion order).
    if (this.buckets.size >= this.maxKeys) {
      let drop = Math.max(1, Math.floor(this.maxKeys / 10));
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}

/**
 * The rate-limit key of a client address. IPv4-mapped IPv6 is the IPv4 address; other IPv6
 * addresses count per /64, the smallest block one subscriber is usually given, so one host
 * cannot take a new bucket per address.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!net.isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::') as [string?, string?];
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}
