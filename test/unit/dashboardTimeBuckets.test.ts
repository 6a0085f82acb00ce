import { spanOf, timeBuckets, type Span } from '../../web/src/timeBuckets';

describe("the Activity page's time buckets", () => {
  const now = new Date('2026-03-14T15:26:53.123Z');

  it.each<[Span, number, number]>([
    ['24h', 24, 1],
    ['7d', 14, 12],
    ['30d', 15, 48],
  ])('cuts %s into %i contiguous buckets of %i h, at most 24, the last holding now', (span, count, hours) => {
    const buckets = timeBuckets(span, now);
    expect(buckets).toHaveLength(count);
    expect(buckets.length).toBeLessThanOrEqual(24);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.from).toBe(buckets[i - 1]!.to);
    const last = buckets.at(-1)!;
    expect(Date.parse(last.from)).toBeLessThanOrEqual(now.getTime());
    expect(Date.parse(last.to)).toBeGreaterThan(now.getTime());
    // Away from a DST change every bucket is exactly its step long.
    const lengths = new Set(buckets.map((b) => (Date.parse(b.to) - Date.parse(b.from)) / 3_600_000));
    expect([...lengths].every((h) => Math.abs(h - hours) <= 1)).toBe(true);
  });

  it('ends hourly buckets on the next full hour and the others on the next local midnight', () => {
    const hourly = new Date(timeBuckets('24h', now).at(-1)!.to);
    expect([hourly.getMinutes(), hourly.getSeconds(), hourly.getMilliseconds()]).toEqual([0, 0, 0]);
    expect(hourly.getTime() - now.getTime()).toBeLessThanOrEqual(3_600_000);
    for (const span of ['7d', '30d'] as const) {
      const end = new Date(timeBuckets(span, now).at(-1)!.to);
      expect([end.getHours(), end.getMinutes(), end.getSeconds()]).toEqual([0, 0, 0]);
      expect(end.getTime()).toBeGreaterThan(now.getTime());
      expect(end.getTime() - now.getTime()).toBeLessThanOrEqual(25 * 3_600_000);
    }
  });

  it.each<[Span, number]>([
    ['24h', 24],
    ['7d', 7],
    ['30d', 30],
  ])('covers %s as that many whole hours or calendar days, today (this hour) included', (span, units) => {
    const buckets = timeBuckets(span, now);
    const unitMs = span === '24h' ? 3_600_000 : 24 * 3_600_000;
    const covered = Date.parse(buckets.at(-1)!.to) - Date.parse(buckets[0]!.from);
    expect(Math.abs(covered - units * unitMs)).toBeLessThanOrEqual(3_600_000);
  });

  it('reads the span from the URL, falling back to 7 days', () => {
    expect(spanOf('24h')).toBe('24h');
    expect(spanOf('30d')).toBe('30d');
    expect(spanOf(null)).toBe('7d');
    expect(spanOf('1y')).toBe('7d');
  });
});
