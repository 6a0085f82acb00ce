import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../api';
import { groupLabel, Link, useSigned } from '../app';
import { navigate } from '../router';
import { spanOf, type Span } from '../timeBuckets';
import { OverTime } from './activityOverTime';

type Scope = 'all' | 'denied' | 'ledger';
const SCOPES: [Scope, string][] = [
  ['all', 'All events'],
  ['denied', 'Denied attempts'],
  ['ledger', "The ledger's own events (ledger.*)"],
];

interface Count { key: string; count: number }
interface Counts { byGroup: Count[]; byAction: Count[]; byOutcome: Count[] }

/** Who does what in which team: counts by group, action and outcome, one scope at a time. */
export function ActivityPage(props: { query: URLSearchParams }) {
  const { api, groupNames } = useSigned();
  const scope = (SCOPES.find(([s]) => s === props.query.get('scope'))?.[0] ?? 'all') as Scope;
  const group = props.query.get('group') ?? '';
  const span = spanOf(props.query.get('range'));
  const [counts, setCounts] = useState<Counts | undefined>();
  const [error, setError] = useState<string | undefined>();

  const filter: Record<string, unknown> = {};
  if (scope === 'denied') filter.outcome = 'DENIED';
  if (scope === 'ledger') filter.actionPrefix = 'ledger.';
  if (group) filter.groupIds = [group];

  useEffect(() => {
    let live = true;
    api
      .query<Counts>(
        'query Counts($filter: EventFilter) { byGroup: eventCounts(filter: $filter, groupBy: GROUP) { key count } byAction: eventCounts(filter: $filter, groupBy: ACTION) { key count } byOutcome: eventCounts(filter: $filter, groupBy: OUTCOME) { key count } }',
        { filter },
      )
      .then(
        (r) => live && setCounts(r),
        (err: unknown) => live && setError(errorText(err)),
      );
    return () => {
      live = false;
    };
  }, [api, scope, group]);

  const to = (next: { scope?: Scope; group?: string; span?: Span }) => {
    const q = new URLSearchParams();
    const s = next.scope ?? scope;
    const g = next.group ?? group;
    const r = next.span ?? props.query.get('range');
    if (s !== 'all') q.set('scope', s);
    if (g) q.set('group', g);
    if (r) q.set('range', r);
    return `/activity${q.size > 0 ? `?${q}` : ''}`;
  };
  const eventsLink = (extra: Record<string, string>) => {
    const q = new URLSearchParams();
    if (scope === 'denied') q.set('outcome', 'DENIED');
    if (scope === 'ledger') q.set('action', 'ledger.*');
    if (group) q.set('group', group);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return `/events?${q}`;
  };
  const groups = [...groupNames.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  return (
    <section>
      <h1>Activity</h1>
      <div class="card filters" role="group" aria-label="Scope">
        <div class="segmented" role="radiogroup" aria-label="Which events">
          {SCOPES.map(([s, label]) => (
            <Link key={s} href={to({ scope: s })} class={`seg ${s === scope ? 'on' : ''}`} aria-current={s === scope ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </div>
        <div class="field">
          <label for="a-group">Group</label>
          <select id="a-group" value={group} onChange={(e) => navigate(to({ group: (e.currentTarget as HTMLSelectElement).value }))}>
            <option value="">Every group</option>
            {groups.map(([id, name]) => <option key={id} value={id}>{name}</option>)}
          </select>
        </div>
      </div>
      {error && <p role="alert" class="alert bad">{error}</p>}
      <OverTime api={api} filter={filter} span={span} spanHref={(r) => to({ span: r })} eventsHref={eventsLink} />
      <div class="charts">
        <Bars title="By group" counts={counts?.byGroup} label={(k) => groupLabel(groupNames, k)} link={(k) => eventsLink({ group: k })} />
        <Bars title="By action" counts={counts?.byAction} label={(k) => k} link={(k) => eventsLink({ action: k })} />
        <Bars title="By outcome" counts={counts?.byOutcome} label={(k) => k} link={(k) => eventsLink({ outcome: k })} />
      </div>
    </section>
  );
}

const MAX_BARS = 12;

/** A horizontal bar chart as a list: readable without the bars, each bar a link to its events. */
function Bars(props: { title: string; counts: Count[] | undefined; label: (key: string) => string; link: (key: string) => string }) {
  const shown = props.counts?.slice(0, MAX_BARS) ?? [];
  const max = Math.max(1, ...shown.map((c) => c.count));
  const id = `chart-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <div class="card chart" aria-busy={props.counts === undefined}>
      <h2 id={id}>{props.title}</h2>
      {props.counts && props.counts.length === 0 && <p class="muted">No events.</p>}
      <ul class="bars" aria-labelledby={id}>
        {shown.map((c) => (
          <li key={c.key}>
            <Link href={props.link(c.key)} class="bar-label">{props.label(c.key)}</Link>
            <span class="bar-track" aria-hidden="true">
              <span class={`bar ${c.key.toLowerCase()}`} style={{ width: `${(100 * c.count) / max}%` }} />
            </span>
            <span class="bar-value">{c.count.toLocaleString()}</span>
          </li>
        ))}
      </ul>
      {props.counts && props.counts.length > MAX_BARS && <p class="muted small">and {props.counts.length - MAX_BARS} more</p>}
    </div>
  );
}
