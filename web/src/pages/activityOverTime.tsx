/** Events over time on the Activity page: one `eventCounts` by outcome per time bucket, as stacked SVG bars. */
import { useEffect, useState } from 'preact/hooks';
import { errorText, type Api } from '../api';
import { Link } from '../app';
import { followLink } from '../router';
import { bucketLabel, SPANS, timeBuckets, type Span, type TimeBucket } from '../timeBuckets';

const OUTCOMES = ['SUCCESS', 'FAILURE', 'DENIED'] as const;
type OutcomeKey = (typeof OUTCOMES)[number];

/** Buckets per GraphQL document, and documents in flight: 24 buckets are 4 requests, 2 at a time. */
const BUCKETS_PER_REQUEST = 6;
const REQUESTS_IN_FLIGHT = 2;

interface Count { key: string; count: number }
export interface BucketCounts extends TimeBucket {
  readonly byOutcome: Readonly<Record<OutcomeKey, number>>;
  readonly total: number;
}

async function countBuckets(api: Api, filter: Record<string, unknown>, buckets: TimeBucket[]): Promise<BucketCounts[]> {
  const batches: TimeBucket[][] = [];
  for (let i = 0; i < buckets.length; i += BUCKETS_PER_REQUEST) batches.push(buckets.slice(i, i + BUCKETS_PER_REQUEST));
  const results: Count[][] = new Array<Count[]>(buckets.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const b = next++;
      const batch = batches[b]!;
      const vars = batch.map((_, i) => `$f${i}: EventFilter`).join(', ');
      const fields = batch.map((_, i) => `b${i}: eventCounts(filter: $f${i}, groupBy: OUTCOME) { key count }`).join(' ');
      const variables = Object.fromEntries(batch.map((bucket, i) => [`f${i}`, { ...filter, from: bucket.from, to: bucket.to }]));
      const answer = await api.query<Record<string, Count[]>>(`query CountsOverTime(${vars}) { ${fields} }`, variables);
      batch.forEach((_, i) => (results[b * BUCKETS_PER_REQUEST + i] = answer[`b${i}`] ?? []));
    }
  };
  await Promise.all(Array.from({ length: Math.min(REQUESTS_IN_FLIGHT, batches.length) }, worker));
  return buckets.map((bucket, i) => {
    const counts = results[i]!;
    const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, counts.find((c) => c.key === o)?.count ?? 0])) as Record<OutcomeKey, number>;
    return { ...bucket, byOutcome, total: counts.reduce((n, c) => n + c.count, 0) };
  });
}

export function OverTime(props: { api: Api; filter: Record<string, unknown>; span: Span; spanHref: (span: Span) => string; eventsHref: (extra: Record<string, string>) => string }) {
  const { api, span } = props;
  const filterKey = JSON.stringify(props.filter);
  const [state, setState] = useState<{ key: string; counts?: BucketCounts[]; error?: string }>({ key: '' });
  const key = `${span} ${filterKey}`;

  useEffect(() => {
    let live = true;
    countBuckets(api, JSON.parse(filterKey) as Record<string, unknown>, timeBuckets(span, new Date())).then(
      (counts) => live && setState({ key, counts }),
      (err: unknown) => live && setState({ key, error: errorText(err) }),
    );
    return () => {
      live = false;
    };
  }, [api, span, filterKey, key]);

  const counts = state.key === key ? state.counts : undefined;
  const error = state.key === key ? state.error : undefined;
  const spanName = SPANS.find(([s]) => s === span)![1];
  return (
    <div class="card chart over-time" aria-busy={counts === undefined && error === undefined} data-testid="over-time">
      <h2 id="chart-over-time">Over time</h2>
      <div class="segmented" role="group" aria-label="Period">
        {SPANS.map(([s, label]) => (
          <Link key={s} href={props.spanHref(s)} class={`seg ${s === span ? 'on' : ''}`} aria-current={s === span ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </div>
      {error && <p role="alert" class="alert bad">{error}</p>}
      {counts && <TimeBars span={span} spanName={spanName} counts={counts} eventsHref={props.eventsHref} />}
      {!counts && !error && <p class="muted">Counting…</p>}
    </div>
  );
}

function TimeBars(props: { span: Span; spanName: string; counts: BucketCounts[]; eventsHref: (extra: Record<string, string>) => string }) {
  const { counts } = props;
  const width = 720;
  const height = 180;
  const left = 44;
  const bottom = 24;
  const max = Math.max(1, ...counts.map((c) => c.total));
  const slot = (width - left - 8) / counts.length;
  const barWidth = Math.max(2, slot * 0.75);
  const y = (n: number) => ((height - bottom - 10) * n) / max;
  const total = counts.reduce((n, c) => n + c.total, 0);
  const busiest = counts.reduce((a, c) => (c.total > a.total ? c : a), counts[0]!);
  const summary = total === 0 ? `No events in the ${props.spanName.toLowerCase()}` : `${total.toLocaleString()} events in the ${props.spanName.toLowerCase()}, most (${busiest.total.toLocaleString()}) from ${bucketLabel(props.span, busiest)}`;
  // A group, not an img: the bars inside are links (an img's children are presentational, so links in it would be lost).
  const ticks = [0, Math.floor(counts.length / 2), counts.length - 1];
  return (
    <div class="chart-box">
      <svg viewBox={`0 0 ${width} ${height}`} role="group" aria-label={summary}>
        <line x1={left} y1={height - bottom} x2={width - 4} y2={height - bottom} class="axis" />
        <line x1={left} y1="10" x2={left} y2={height - bottom} class="axis" />
        <text x={left - 4} y="14" class="tick" text-anchor="end">{max.toLocaleString()}</text>
        <text x={left - 4} y={height - bottom} class="tick" text-anchor="end">0</text>
        {counts.map((c, i) => {
          const x = left + i * slot + (slot - barWidth) / 2;
          let base = height - bottom;
          return (
            <a key={c.from} href={props.eventsHref({ from: c.from, to: c.to })} aria-label={`${bucketLabel(props.span, c)}: ${c.total} events`} data-count={c.total} class="time-bar" onClick={followLink}>
              <title>{`${bucketLabel(props.span, c)}: ${OUTCOMES.map((o) => `${c.byOutcome[o]} ${o}`).join(', ')}`}</title>
              {OUTCOMES.map((o) => {
                const h = y(c.byOutcome[o]);
                base -= h;
                return h > 0 ? <rect key={o} x={x} y={base} width={barWidth} height={h} class={`seg-${o.toLowerCase()}`} /> : null;
              })}
            </a>
          );
        })}
        {ticks.map((i) => (
          <text key={i} x={left + i * slot + slot / 2} y={height - 6} class="tick" text-anchor="middle">
            {bucketLabel(props.span, counts[i]!)}
          </text>
        ))}
      </svg>
      <p class="legend small">
        {OUTCOMES.map((o) => (
          <span key={o} class="legend-item"><span class={`swatch seg-${o.toLowerCase()}`} aria-hidden="true" />{o}</span>
        ))}
      </p>
      <details>
        <summary>Counts per period</summary>
        <table data-testid="over-time-table">
          <thead>
            <tr><th scope="col">From</th>{OUTCOMES.map((o) => <th key={o} scope="col" class="num">{o}</th>)}<th scope="col" class="num">Total</th></tr>
          </thead>
          <tbody>
            {counts.map((c) => (
              <tr key={c.from}>
                <td>{bucketLabel(props.span, c)}</td>
                {OUTCOMES.map((o) => <td key={o} class="num">{c.byOutcome[o]}</td>)}
                <td class="num">{c.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
