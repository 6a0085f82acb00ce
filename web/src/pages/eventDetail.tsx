import { useEffect, useState } from 'preact/hooks';
import { errorText, EVENT_DETAIL_FIELDS, type EventDetail, type InclusionProofView } from '../api';
import { groupLabel, Link, useSigned } from '../app';
import { localTime } from '../format';
import { trust, type PinnedKey } from '../session';
import { verifyEventProof, type Outcome } from '../verification';
import { PinKey, Verdict } from './trust';

type Check = { state: 'idle' } | { state: 'pinning' } | { state: 'checking' } | { state: 'done'; outcome: Outcome } | { state: 'error'; message: string };

export function EventDetailPage(props: { leafIndex: number }) {
  const { api, groupNames } = useSigned();
  const [event, setEvent] = useState<EventDetail | null | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [check, setCheck] = useState<Check>({ state: 'idle' });

  useEffect(() => {
    let live = true;
    api.query<{ event: EventDetail | null }>(`query Event($leafIndex: SafeInt) { event(leafIndex: $leafIndex) { ${EVENT_DETAIL_FIELDS} } }`, { leafIndex: props.leafIndex }).then(
      (r) => live && setEvent(r.event),
      (err: unknown) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [api, props.leafIndex]);

  const verify = async (pinned: PinnedKey | undefined) => {
    if (!event) return;
    if (!pinned) {
      setCheck({ state: 'pinning' });
      return;
    }
    setCheck({ state: 'checking' });
    try {
      const { inclusionProof } = await api.query<{ inclusionProof: InclusionProofView }>(
        'query Proof($leafIndex: SafeInt!) { inclusionProof(leafIndex: $leafIndex) { leafIndex treeSize leafHash hashes checkpoint { origin treeSize rootHash note } } }',
        { leafIndex: event.leafIndex },
      );
      setCheck({ state: 'done', outcome: verifyEventProof(event, inclusionProof, pinned) });
    } catch (err) {
      setCheck({ state: 'error', message: errorText(err) });
    }
  };

  if (error) return <section><h1>Event {props.leafIndex}</h1><p role="alert" class="alert bad">{error}</p></section>;
  // The loaded page's first lines, so nothing moves when the event arrives below them.
  if (event === undefined) {
    return (
      <section aria-busy="true">
        <p>
          <Link href="/events">« Events</Link>
        </p>
        <h1>Event {props.leafIndex}</h1>
        <p class="muted">Loading…</p>
      </section>
    );
  }
  if (event === null) {
    return (
      <section>
        <h1>Event {props.leafIndex}</h1>
        <p>There is no event at leaf {props.leafIndex} that this key may read.</p>
        <Link href="/events">Back to the events</Link>
      </section>
    );
  }
  const rows: [string, string][] = [
    ['Leaf index', String(event.leafIndex)],
    ['Event id', event.id],
    ['Action', event.action],
    ['Outcome', event.outcome],
    ['Actor', `${event.actor.type} ${event.actor.id}${event.actor.name ? ` (${event.actor.name})` : ''}`],
    ['Target', event.target ? `${event.target.type} ${event.target.id}${event.target.name ? ` (${event.target.name})` : ''}` : '—'],
    ['Reason', event.reason ?? '—'],
    ['Groups', event.groups.map((g) => groupLabel(groupNames, g)).join(', ') || '—'],
    ['Recorded at', `${localTime(event.recordedAt)} (${event.recordedAt})`],
    ['Occurred at', event.occurredAt ? `${localTime(event.occurredAt)} (${event.occurredAt})` : '—'],
    ['Source', event.source ? [event.source.ip, event.source.userAgent, event.source.requestId].filter(Boolean).join(' · ') : '—'],
    ['Submitted by', event.submitter ? `key ${event.submitter.keyId}, user ${event.submitter.userId}` : 'the ledger itself'],
    ['Metadata', event.metadata ? JSON.stringify(event.metadata) : '—'],
    ['Salt', event.salt ?? '—'],
    ['Leaf hash', event.leafHash],
    ['Redacted', event.redacted ? `yes: ${event.redaction?.reason ?? ''}${event.redaction?.leafIndex != null ? ` (leaf ${event.redaction.leafIndex})` : ''}` : 'no'],
  ];
  return (
    <section>
      <p>
        <Link href="/events">« Events</Link>
      </p>
      <h1>
        Event {event.leafIndex}: <span class="mono">{event.action}</span>
      </h1>
      <div class="detail-grid">
        <div class="card">
          <dl class="fields">
            {rows.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd class={k === 'Leaf hash' || k === 'Event id' || k === 'Salt' || k === 'Metadata' ? 'mono break' : ''}>{v}</dd>
              </div>
            ))}
          </dl>
          <h2>Canonical leaf</h2>
          <p class="muted small">The exact RFC 8785 JSON that was hashed into the log.</p>
          <pre class="leaf" data-testid="leaf">{event.leaf ?? '(redacted: the content was destroyed; the leaf hash remains)'}</pre>
        </div>
        <div class="card">
          <h2>Verify in this browser</h2>
          <p>Fetches the inclusion proof and the signed checkpoint and checks both here, against the verifier key pinned in this browser.</p>
          <p class="muted small">Pinned key: <span class="mono break">{trust.pinned()?.verifierKey ?? 'none yet'}</span></p>
          <button type="button" onClick={() => void verify(trust.pinned())} disabled={check.state === 'checking'}>
            {check.state === 'checking' ? 'Verifying…' : 'Verify'}
          </button>
          <div class="verdict-slot" aria-live="polite">
            {check.state === 'pinning' && (
              <PinKey
                onPinned={(key) => void verify(key)}
                onCancel={() => setCheck({ state: 'idle' })}
              />
            )}
            {check.state === 'error' && <p role="alert" class="alert bad">The proof could not be fetched: {check.message}</p>}
            {check.state === 'done' && <Verdict outcome={check.outcome} okText={`Verified: event ${event.leafIndex} is in the signed log.`} testId="verify-result" />}
          </div>
        </div>
      </div>
    </section>
  );
}
