import { useEffect, useState } from 'preact/hooks';
import { errorText, type CheckpointView } from '../api';
import { useSigned } from '../app';
import { age, localTime } from '../format';
import { trust, type PinnedKey, type SizeSeen } from '../session';
import { verifyLogConsistency, type Outcome } from '../verification';
import { Cosignatures } from './cosignatures';
import { PinKey, Verdict } from './trust';

interface Seen {
  readonly checkpoint: CheckpointView;
  /** recordedAt of the newest event, when this key may read it. */
  readonly newestAt: string | undefined;
  readonly outcome: Outcome | undefined;
  readonly sizes: SizeSeen[];
  /** The server's size history (its checkpoint archive); undefined when it could not be read. */
  readonly history: SizeSeen[] | undefined;
}

const HISTORY_QUERY = '{ logHistory(points: 60) { at treeSize } }';

export function LogPage() {
  const { api } = useSigned();
  const [pinned, setPinned] = useState<PinnedKey | undefined>(() => trust.pinned());
  const [seen, setSeen] = useState<Seen | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [round, setRound] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      const [{ checkpoint }, history] = await Promise.all([
        api.query<{ checkpoint: CheckpointView }>('{ checkpoint { origin treeSize rootHash note } }'),
        // The chart is secondary: a server without the history (an older release) still shows the rest.
        api.query<{ logHistory: SizeSeen[] }>(HISTORY_QUERY).then((r) => r.logHistory, () => undefined),
      ]);
      let newestAt: string | undefined;
      if (checkpoint.treeSize > 0) {
        try {
          const r = await api.query<{ events: { edges: { node: { recordedAt: string } }[] } }>('{ events(order: NEWEST_FIRST, first: 1) { edges { node { recordedAt } } } }');
          newestAt = r.events.edges[0]?.node.recordedAt;
        } catch {
          newestAt = undefined;
        }
      }
      let outcome: Outcome | undefined;
      if (pinned) {
        const last = trust.lastCheckpoint();
        let proof: { fromSize: number; toSize: number; hashes: string[] } | undefined;
        if (last && last.treeSize > 0 && last.treeSize < checkpoint.treeSize) {
          const r = await api.query<{ consistencyProof: { fromSize: number; toSize: number; hashes: string[] } }>(
            'query Consistency($fromSize: SafeInt!, $toSize: SafeInt) { consistencyProof(fromSize: $fromSize, toSize: $toSize) { fromSize toSize hashes } }',
            { fromSize: last.treeSize, toSize: checkpoint.treeSize },
          );
          proof = r.consistencyProof;
        }
        const emptyBefore = last && last.treeSize === 0 ? undefined : last;
        const result = verifyLogConsistency(emptyBefore, checkpoint.note, proof, pinned);
        outcome = result;
        // Only a checkpoint proven to extend the last one replaces it: after a failure the
        // evidence (the old checkpoint) is kept for the next look and for the operator.
        if (result.ok) trust.rememberCheckpoint({ treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, note: checkpoint.note, seenAt: new Date().toISOString() });
      }
      const sizes = trust.recordSize({ at: new Date().toISOString(), treeSize: checkpoint.treeSize });
      if (live) setSeen({ checkpoint, newestAt, outcome, sizes, history });
    })().catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [api, pinned, round]);

  const last = trust.lastCheckpoint();
  return (
    <section>
      <h1>Log</h1>
      {error && <p role="alert" class="alert bad">{error}</p>}
      {!pinned && <PinKey onPinned={(k) => setPinned(k)} onCancel={() => undefined} />}
      {seen?.outcome && !seen.outcome.ok && (
        <p role="alert" class="alert bad big" data-testid="consistency-alert">
          The log is not consistent with what this browser saw before. {seen.outcome.failure} Keep this page and tell the operator: a log that rewrites its history cannot be trusted.
        </p>
      )}
      <div class="detail-grid">
        <div class="card" aria-busy={!seen}>
          <h2>Latest signed checkpoint</h2>
          <dl class="fields">
            <div><dt>Origin</dt><dd class="mono break">{seen?.checkpoint.origin ?? '…'}</dd></div>
            <div><dt>Tree size</dt><dd data-testid="tree-size">{seen ? seen.checkpoint.treeSize.toLocaleString() : '…'}</dd></div>
            <div><dt>Root hash</dt><dd class="mono break">{seen?.checkpoint.rootHash ?? '…'}</dd></div>
            <div>
              <dt>Age</dt>
              <dd>
                {seen
                  ? seen.newestAt
                    ? `newest event recorded ${age(Date.parse(seen.newestAt), Date.now())} (${localTime(seen.newestAt)})`
                    : `first seen by this browser ${age(Date.parse(seen.sizes.find((s) => s.treeSize === seen.checkpoint.treeSize)?.at ?? new Date().toISOString()), Date.now())}`
                  : '…'}
              </dd>
            </div>
          </dl>
          {/* What follows appears with the checkpoint, not before: content of unknown height drawn
              early would push the rest down when it arrives (a layout shift). */}
          {seen && (
            <>
              <h3>Signed note</h3>
              <pre class="leaf">{seen.checkpoint.note}</pre>
              <button type="button" onClick={() => setRound((r) => r + 1)}>Check again</button>
            </>
          )}
        </div>
        {seen && <Cosignatures note={seen.checkpoint.note} />}
        {seen && <div class="card">
          <h2>Consistency with what this browser saw</h2>
          <p class="muted small">
            Last checkpoint remembered: {last ? `${last.treeSize.toLocaleString()} leaves, seen ${localTime(last.seenAt)}` : 'none yet'}. Pinned key:{' '}
            <span class="mono break">{pinned?.verifierKey ?? 'none'}</span>
          </p>
          {seen.outcome && <Verdict outcome={seen.outcome} okText="The log only grew: the current checkpoint extends the last one this browser saw." testId="consistency-result" />}
          <h2>Size over time</h2>
          <p class="muted small">
            Solid: the sizes the server's checkpoint archive records. Dashed: the sizes this browser has seen itself (kept in this browser only).
          </p>
          <SizeChart history={seen.history} sizes={seen.sizes} />
        </div>}
      </div>
    </section>
  );
}

/**
 * A step chart of tree size against time, in plain SVG: the server's history, with the sizes
 * this browser saw itself as a second line to hold it against; the numbers are in tables.
 */
function SizeChart(props: { history: SizeSeen[] | undefined; sizes: SizeSeen[] }) {
  const series = (sizes: readonly SizeSeen[]) => sizes.map((s) => ({ t: Date.parse(s.at), n: s.treeSize }));
  const server = series(props.history ?? []);
  const browser = series(props.sizes);
  const all = [...server, ...browser];
  const width = 560;
  const height = 160;
  if (server.length < 2 && browser.length < 2) return <div class="chart-box"><p class="muted">Visit again later to see the log grow: {all.length} size seen so far.</p></div>;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  const nMax = Math.max(...all.map((p) => p.n), 1);
  const x = (t: number) => 40 + ((t - t0) / (t1 - t0)) * (width - 50);
  const y = (n: number) => height - 20 - (n / nMax) * (height - 30);
  const path = (points: typeof all) => points.map((p, i) => (i === 0 ? `M${x(p.t)},${y(p.n)}` : `H${x(p.t)}V${y(p.n)}`)).join('');
  const first = server[0] ?? browser[0]!;
  const last = server.at(-1) ?? browser.at(-1)!;
  return (
    <div class="chart-box">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Tree size from ${first.n} to ${last.n} leaves`}>
        <line x1="40" y1={height - 20} x2={width - 10} y2={height - 20} class="axis" />
        <line x1="40" y1="10" x2="40" y2={height - 20} class="axis" />
        <text x="36" y="14" class="tick" text-anchor="end">{nMax}</text>
        <text x="36" y={height - 20} class="tick" text-anchor="end">0</text>
        {server.length > 0 && <path d={path(server)} class="series" data-testid="server-size-series" />}
        {browser.length > 1 && <path d={path(browser)} class="series seen" />}
      </svg>
      {props.history && <SizeTable title={`Sizes the server recorded (${props.history.length} samples)`} sizes={props.history} testId="server-sizes" />}
      <SizeTable title="Sizes this browser saw" sizes={props.sizes} />
    </div>
  );
}

function SizeTable(props: { title: string; sizes: SizeSeen[]; testId?: string }) {
  return (
    <details data-testid={props.testId}>
      <summary>{props.title}</summary>
      <table>
        <thead><tr><th scope="col">At</th><th scope="col" class="num">Leaves</th></tr></thead>
        <tbody>{props.sizes.map((s) => <tr key={s.at}><td>{localTime(s.at)}</td><td class="num">{s.treeSize}</td></tr>)}</tbody>
      </table>
    </details>
  );
}
