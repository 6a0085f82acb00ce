import { addressKey, RateLimiter } from '../../src/server/rateLimit';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('token-bucket rate limiter', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 }, c.now);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // Another key has its own bucket.
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('refills at the configured rate, never beyond the burst', () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 }, c.now);
    for (let i = 0; i < 3; i++) limiter.take('a');
    c.advance(499);
    expect(limiter.take('a').allowed).toBe(false);
    c.advance(1);
    expect(limiter.take('a').allowed).toBe(true);
    c.advance(60_000);
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('rounds Retry-After up to whole seconds for slow rates', () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 0.1, burst: 1 }, c.now);
    limiter.take('a');
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    c.advance(5_000);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 5 });
  });

  it('peeks without taking', () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 }, c.now);
    expect(limiter.peek('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.peek('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(1000);
    expect(limiter.peek('a').allowed).toBe(true);
    expect(limiter.peek('a').allowed).toBe(true);
  });

  it('keeps memory bounded: idle buckets go first, then the oldest', () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2 }, c.now, 10);
    for (let i = 0; i < 10; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(10);
    c.advance(2000); // all refilled: all idle
    limiter.take('new');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 20; i++) limiter.take(`busy${i}`);
    expect(limiter.size).toBeLessThanOrEqual(10);
  });

  it('refuses a meaningless configuration', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('client address keys', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('%s counts as %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
