import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../api';
import { useSigned } from '../app';
import { trust, type PinnedKey } from '../session';
import type { Outcome } from '../verification';

/**
 * Trust on first use: the server's verifier key is shown for the reader to compare with the
 * one they got out of band (README, operator) and pinned in this browser only if they confirm.
 */
export function PinKey(props: { onPinned: (key: PinnedKey) => void; onCancel: () => void }) {
  const { api } = useSigned();
  const [offered, setOffered] = useState<{ origin: string; verifierKey: string } | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    api.query<{ logInfo: { origin: string; verifierKey: string } }>('{ logInfo { origin verifierKey } }').then(
      ({ logInfo }) => live && setOffered(logInfo),
      (err: unknown) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [api]);
  return (
    <div class="card pin" role="group" aria-labelledby="pin-title">
      <h2 id="pin-title">Pin the log's verifier key</h2>
      <p>
        Proofs are checked against a key this browser trusts, not against whatever the server says. This browser has none yet. The server gives this one; compare it with
        the key your operator published before trusting it:
      </p>
      {error && <p role="alert" class="alert bad">{error}</p>}
      <p class="mono break" data-testid="offered-key">
        {offered ? offered.verifierKey : '…'}
      </p>
      <div class="actions">
        <button
          type="button"
          disabled={!offered}
          onClick={() => {
            if (!offered) return;
            const key = { verifierKey: offered.verifierKey, origin: offered.origin, pinnedAt: new Date().toISOString() };
            trust.pin(key);
            props.onPinned(key);
          }}
        >
          Trust and pin this key
        </button>
        <button type="button" class="quiet" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

export function Verdict(props: { outcome: Outcome; okText: string; testId: string }) {
  const { outcome } = props;
  return (
    <div class={`verdict ${outcome.ok ? 'good' : 'bad'}`} data-testid={props.testId} role={outcome.ok ? 'status' : 'alert'}>
      <p class="headline">{outcome.ok ? `✔ ${props.okText}` : `✘ Verification failed. ${outcome.failure ?? ''}`}</p>
      <ol class="steps">
        {outcome.steps.map((s) => (
          <li key={s.label} class={s.status}>
            <span class="mark" aria-hidden="true">
              {s.status === 'passed' ? '✔' : s.status === 'failed' ? '✘' : '–'}
            </span>
            <span>
              <strong>{s.label}</strong> <span class="sr-only">({s.status})</span>
              <br />
              <span class="detail">{s.detail}</span>
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
