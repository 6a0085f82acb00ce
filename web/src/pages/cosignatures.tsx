import { useState } from 'preact/hooks';
import { parseWitnessKey } from '../../../src/verify';
import { localTime } from '../format';
import { trust } from '../session';
import { checkpointCosignatures } from '../verification';

const STATUS_TEXT = { valid: '✔ valid', invalid: '✘ invalid', absent: '– not cosigned', unverified: 'unverified (no pinned key)' } as const;

/**
 * The witness cosignatures on the current checkpoint: checked against witness keys the
 * reader pinned in this browser, the others listed as unverified.
 */
export function Cosignatures(props: { note: string | undefined }) {
  const [keys, setKeys] = useState<string[]>(() => trust.witnessKeys());
  const [draft, setDraft] = useState(() => keys.join('\n'));
  const [error, setError] = useState<string | undefined>();
  const rows = props.note ? checkpointCosignatures(props.note, keys) : [];

  const save = () => {
    const entered = draft.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    for (const k of entered) {
      try {
        parseWitnessKey(k);
      } catch (err) {
        setError(`${k.split('+')[0] ?? k}: ${(err as Error).message}`);
        return;
      }
    }
    setError(undefined);
    trust.pinWitnessKeys(entered);
    setKeys(entered);
  };

  return (
    <div class="card" data-testid="cosignatures">
      <h2>Witness cosignatures</h2>
      {rows.length === 0 ? (
        <p class="muted">No witness has cosigned this checkpoint{keys.length > 0 ? ' and no pinned witness key is listed' : ''}.</p>
      ) : (
        <table>
          <thead><tr><th scope="col">Witness</th><th scope="col">Cosigned at</th><th scope="col">Status</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name} class={r.status === 'invalid' ? 'bad' : undefined}>
                <td class="mono break">{r.name}</td>
                <td>{r.timestamp === undefined ? '' : localTime(new Date(r.timestamp * 1000).toISOString())}</td>
                <td>{STATUS_TEXT[r.status]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details>
        <summary>Pinned witness keys ({keys.length})</summary>
        <p class="muted small">One cosignature key (name+hex8+base64) per line, as the witnesses publish them. Kept in this browser only.</p>
        <textarea rows={3} class="mono witness-keys" aria-label="Witness keys" value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} />
        {error && <p role="alert" class="alert bad">{error}</p>}
        <button type="button" onClick={save}>Pin witness keys</button>
      </details>
    </div>
  );
}
