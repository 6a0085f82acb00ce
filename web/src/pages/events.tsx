import { useEffect, useState } from 'preact/hooks';
import { errorText, EVENT_ROW_FIELDS, type EventRow } from '../api';
import { groupLabel, Link, useSigned } from '../app';
import { isoFromLocalInput, localInputFromIso, localTime } from '../format';
import { navigate } from '../router';

export const PAGE_SIZE = 25;

/** The URL's query string ↔ the API's EventFilter. `action` ending in `*` or `.` is a prefix. */
export function filterOf(query: URLSearchParams): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const group = query.get('group');
  if (group) filter.groupIds = [group];
  const actor = query.get('actor');
  if (actor) filter.actorId = actor;
  const action = query.get('action');
  if (action) {
    if (action.endsWith('*')) filter.actionPrefix = action.slice(0, -1);
    else if (action.endsWith('.')) filter.actionPrefix = action;
    else filter.action = action;
  }
  const targetType = query.get('targetType');
  if (targetType) filter.targetType = targetType;
  const targetId = query.get('targetId');
  if (targetId) filter.targetId = targetId;
  const outcome = query.get('outcome');
  if (outcome) filter.outcome = outcome;
  const from = query.get('from');
  if (from) filter.from = from;
  const to = query.get('to');
  if (to) filter.to = to;
  return filter;
}

const FIELDS = ['group', 'actor', 'action', 'targetType', 'targetId', 'outcome', 'from', 'to'] as const;

interface Page {
  readonly rows: EventRow[];
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

const OUTCOMES: readonly (readonly [string, string])[] = [
  ['SUCCESS', 'Success'],
  ['FAILURE', 'Failure'],
  ['DENIED', 'Denied'],
];

/**
 * The filter form is uncontrolled: its fields start from the URL (the page is re-created for
 * each new query) and are read on submit, so a re-render while someone is typing never
 * resets what they chose.
 */
export function EventsPage(props: { query: URLSearchParams }) {
  const { api, groupNames } = useSigned();
  const { query } = props;
  const [page, setPage] = useState<Page | undefined>();
  const [error, setError] = useState<string | undefined>();
  const pageNumber = Number(query.get('page') ?? '1') || 1;

  useEffect(() => {
    let live = true;
    const after = query.get('after');
    api
      .query<{ events: { edges: { node: EventRow; cursor: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
        `query Events($filter: EventFilter, $after: String, $first: Int) { events(order: NEWEST_FIRST, filter: $filter, after: $after, first: $first) { edges { cursor node { ${EVENT_ROW_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
        { filter: filterOf(query), after, first: PAGE_SIZE },
      )
      .then(
        ({ events }) => live && setPage({ rows: events.edges.map((e) => e.node), endCursor: events.pageInfo.endCursor, hasNextPage: events.pageInfo.hasNextPage }),
        (err: unknown) => live && setError(errorText(err)),
      );
    return () => {
      live = false;
    };
  }, [api, query]);

  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const name of FIELDS) {
      let value = String(form.get(name) ?? '').trim();
      if (name === 'from' || name === 'to') value = isoFromLocalInput(value) ?? '';
      if (value) next.set(name, value);
    }
    navigate(`/events${next.size > 0 ? `?${next}` : ''}`);
  };

  const withCursor = (cursor: string) => {
    const next = new URLSearchParams(query);
    next.set('after', cursor);
    next.set('page', String(pageNumber + 1));
    return `/events?${next}`;
  };
  const firstPage = () => {
    const next = new URLSearchParams(query);
    next.delete('after');
    next.delete('page');
    return `/events${next.size > 0 ? `?${next}` : ''}`;
  };

  const groups = [...groupNames.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  const filtered = FIELDS.some((f) => query.get(f));
  return (
    <section>
      <h1>Events</h1>
      <form class="filters card" onSubmit={apply} aria-label="Filter events">
        <div class="field">
          <label for="f-group">Group</label>
          <select id="f-group" name="group">
            <option value="">Any group</option>
            {groups.map(([id, name]) => (
              <option key={id} value={id} selected={id === query.get('group')}>
                {name}
              </option>
            ))}
            {query.get('group') && !groupNames.has(query.get('group')!) && (
              <option value={query.get('group')!} selected>
                {query.get('group')}
              </option>
            )}
          </select>
        </div>
        <div class="field">
          <label for="f-actor">Actor id</label>
          <input id="f-actor" name="actor" defaultValue={query.get('actor') ?? ''} />
        </div>
        <div class="field">
          <label for="f-action">Action</label>
          <input id="f-action" name="action" defaultValue={query.get('action') ?? ''} placeholder="user.role.grant or user.role.*" aria-describedby="f-action-help" />
          <span id="f-action-help" class="muted small">
            End with * for a prefix
          </span>
        </div>
        <div class="field">
          <label for="f-target-type">Target type</label>
          <input id="f-target-type" name="targetType" defaultValue={query.get('targetType') ?? ''} />
        </div>
        <div class="field">
          <label for="f-target-id">Target id</label>
          <input id="f-target-id" name="targetId" defaultValue={query.get('targetId') ?? ''} />
        </div>
        <div class="field">
          <label for="f-outcome">Outcome</label>
          <select id="f-outcome" name="outcome">
            <option value="">Any outcome</option>
            {OUTCOMES.map(([value, label]) => (
              <option key={value} value={value} selected={value === query.get('outcome')}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-from">From (recorded at or after)</label>
          <input id="f-from" name="from" type="datetime-local" defaultValue={localInputFromIso(query.get('from'))} />
        </div>
        <div class="field">
          <label for="f-to">To (recorded before)</label>
          <input id="f-to" name="to" type="datetime-local" defaultValue={localInputFromIso(query.get('to'))} />
        </div>
        <div class="actions">
          <button type="submit">Apply filters</button>
          {filtered && <Link href="/events">Clear</Link>}
        </div>
      </form>
      {error && (
        <p role="alert" class="alert bad">
          {error}
        </p>
      )}
      {/* Above the table, so it never moves when the rows arrive; the page links come below, once there is a page. */}
      <p class="page-status muted small" aria-live="polite">
        Page {pageNumber}
        {page ? `, ${page.rows.length} events` : ', loading…'}
      </p>
      <div class="table-wrap" aria-busy={page === undefined && !error}>
        <table class="events">
          <caption class="sr-only">Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col" class="num">Leaf</th>
              <th scope="col">Recorded</th>
              <th scope="col">Action</th>
              <th scope="col">Actor</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
              <th scope="col">Groups</th>
            </tr>
          </thead>
          <tbody>
            {page === undefined && !error
              ? Array.from({ length: 8 }, (_, i) => (
                  <tr key={i} class="placeholder" aria-hidden="true">
                    <td colSpan={7}>&nbsp;</td>
                  </tr>
                ))
              : page?.rows.map((e) => (
                  <tr key={e.leafIndex}>
                    <td class="num">
                      <Link href={`/events/${e.leafIndex}`}>{e.leafIndex}</Link>
                    </td>
                    <td>{localTime(e.recordedAt)}</td>
                    <td class="mono">{e.action}</td>
                    <td title={e.actor.id}>{e.actor.name ?? e.actor.id}</td>
                    <td>{e.target ? `${e.target.type}: ${e.target.name ?? e.target.id}` : ''}</td>
                    <td>
                      <span class={`badge ${e.outcome.toLowerCase()}`}>{e.outcome}</span>
                    </td>
                    <td>{e.groups.map((g) => groupLabel(groupNames, g)).join(', ')}</td>
                  </tr>
                ))}
            {page && page.rows.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No events match{filtered ? ' these filters' : ''}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {page && (pageNumber > 1 || (page.hasNextPage && page.endCursor)) && (
        <nav class="pager" aria-label="Pages">
          {pageNumber > 1 ? <Link href={firstPage()}>« First page</Link> : <span />}
          {page.hasNextPage && page.endCursor ? <Link href={withCursor(page.endCursor)}>Next page »</Link> : <span />}
        </nav>
      )}
    </section>
  );
}
