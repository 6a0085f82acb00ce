/** Events over time on the Activity page: counts by outcome per time bucket (one `eventCountsOverTime`), as stacked SVG bars. */
import { useEffect, useState } from 'preact/hooks';
import { errorText, type Api } from '../api';
import { Link } from '../app';
import { followLink } from '../router';
import { bucketLabel, SPANS, timeBuckets, type Span, type TimeBucket } from '../timeBuckets';

const OUTCOMES = ['SUCCESS', 'FAILURE', 'DENIED'] as const;
type OutcomeKey = (typeof OUTCOMES)[number];

interface Count { key: string; count: number }
export interface BucketCounts extends TimeBucket {
  readonly byOutcome: Readonly<Record<OutcomeKey, number>>;
  readonly total: number;
}

const COUNTS_OVER_TIME = 'query CountsOverTime($filter: EventFilter, $boundaries: [DateTimeISO!]!) { eventCountsOverTime(filter: $filter, boundaries: $boundaries, groupBy: OUTCOME) { from counts { key count } } }';

/** All buckets in one request, counted by the server over one signed tree: one recorded read, not one per bar. */
async function countBuckets(api: Api, filter: Record<string, unknown>, buckets: TimeBucket[]): Promise<BucketCounts[]> {
  const boundaries = [...buckets.map((b) => b.from), buckets.at(-1)!.to];
  const answer = await api.query<{ eventCountsOverTime: { from: string; counts: Count[] }[] }>(COUNTS_OVER_TIME, { filter, boundaries });
  return buckets.map((bucket, i) => {
    const counts = answer.eventCountsOverTime[i]?.counts ?? [];
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
      {!counts && !error && <EmptyBars />}
    </div>
  );
}

const WIDTH = 720;
const HEIGHT = 180;

function Legend() {
  return (
    <p class="legend small">
      {OUTCOMES.map((o) => (
        <span key={o} class="legend-item"><span class={`swatch seg-${o.toLowerCase()}`} aria-hidden="true" />{o}</span>
      ))}
    </p>
  );
}

/** While counting: the chart's frame at its final size, so the cards below it do not move when the bars arrive. */
function EmptyBars() {
  return (
    <div class="chart-box">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Counting…">
        <text x={WIDTH / 2} y={HEIGHT / 2} class="tick" text-anchor="middle">Counting…</text>
      </svg>
      <Legend />
      <details>
        <summary>Counts per period</summary>
      </details>
    </div>
  );
}

function TimeBars(props: { span: Span; spanName: string; counts: BucketCounts[]; eventsHref: (extra: Record<string, string>) => string }) {
  const { counts } = props;
  const width = WIDTH;
  const height = HEIGHT;
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
      <Legend />
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
