/**
 * The periods the Activity page counts events in: a span (the last 24 hours, 7 days or 30
 * days) cut into at most 24 buckets, all counted by one `eventCountsOverTime` query. Buckets end on a local
 * boundary (the next full hour, or the next local midnight) so the same bar covers the same
 * period from one visit to the next; the newest bucket still runs.
 */
export type Span = '24h' | '7d' | '30d';

export const SPANS: readonly (readonly [Span, string])[] = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
];

export const DEFAULT_SPAN: Span = '7d';

/** One bucket: recordedAt in [from, to), as ISO strings (what `EventFilter.from`/`to` take). */
export interface TimeBucket {
  readonly from: string;
  readonly to: string;
}

interface Plan {
  readonly stepHours: number;
  readonly count: number;
  readonly boundary: 'hour' | 'day';
}

const PLANS: Record<Span, Plan> = {
  '24h': { stepHours: 1, count: 24, boundary: 'hour' },
  '7d': { stepHours: 12, count: 14, boundary: 'day' },
  '30d': { stepHours: 48, count: 15, boundary: 'day' },
};

export function spanOf(value: string | null): Span {
  return SPANS.find(([s]) => s === value)?.[0] ?? DEFAULT_SPAN;
}

/** The span's buckets, oldest first, the last one holding `now`. */
export function timeBuckets(span: Span, now: Date): TimeBucket[] {
  const plan = PLANS[span];
  const end = new Date(now.getTime());
  if (plan.boundary === 'hour') end.setMinutes(60, 0, 0);
  else end.setHours(24, 0, 0, 0);
  const buckets: TimeBucket[] = [];
  for (let i = plan.count; i > 0; i--) {
    // Local wall-clock steps (setHours), not fixed milliseconds, so buckets stay on the boundary across a DST change.
    const from = new Date(end.getTime());
    from.setHours(from.getHours() - i * plan.stepHours);
    const to = new Date(end.getTime());
    to.setHours(to.getHours() - (i - 1) * plan.stepHours);
    buckets.push({ from: from.toISOString(), to: to.toISOString() });
  }
  return buckets;
}

/** A bucket's short label in local time: the hour for hourly buckets, else the day (and hour when it is not midnight). */
export function bucketLabel(span: Span, bucket: TimeBucket): string {
  const d = new Date(bucket.from);
  if (span === '24h') return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const day = d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return d.getHours() === 0 ? day : `${day} ${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
}

