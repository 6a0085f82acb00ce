/**
 * An ADMIN key may not read events (separation of duties), yet the first person to open the
 * dashboard holds only the bootstrap ADMIN key. This offers the way the server allows: nobody
 * may create a key for their own user, so the ADMIN creates a separate directory user standing
 * for them in an auditor's role and gives it an AUDITOR key, through the existing createUser
 * and createApiKey mutations (each authorized and recorded in the ledger by the server). The tab
 * then switches to the new key, whose token is shown this once.
 */
import { useState } from 'preact/hooks';
import { errorText } from '../api';
import { useSigned } from '../app';

export interface FreshKey {
  readonly keyName: string;
  readonly userName: string;
  readonly token: string;
}

const CREATE_USER = 'mutation AuditorUser($input: CreateUserInput!) { createUser(input: $input) { id } }';
const CREATE_KEY = 'mutation AuditorKey($input: ApiKeyInput!) { createApiKey(input: $input) { id token userId } }';

export function AuditorKeyOffer(props: { onCreated: (key: FreshKey) => void }) {
  const { api, viewer } = useSigned();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  // Kept so that a retry after a failed key creation reuses the user instead of adding another.
  const [userId, setUserId] = useState<string | undefined>();
  const userName = `${viewer.userName} (auditor)`;
  const keyName = `${viewer.userName}-auditor`;

  const create = async () => {
    setBusy(true);
    setError(undefined);
    try {
      let id = userId;
      if (id === undefined) {
        id = (await api.query<{ createUser: { id: string } }>(CREATE_USER, { input: { name: userName, type: 'HUMAN' } })).createUser.id;
        setUserId(id);
      }
      const { createApiKey } = await api.query<{ createApiKey: { token: string } }>(CREATE_KEY, { input: { name: keyName, roles: ['AUDITOR'], userId: id } });
      props.onCreated({ keyName, userName, token: createApiKey.token });
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <div class="card" data-testid="auditor-offer">
      <h2>Read the events yourself</h2>
      <p>
        Create an AUDITOR key and switch this tab to it. An AUDITOR reads every event and the directory but changes nothing. The server lets nobody create a key for
        their own user (otherwise an ADMIN could give itself any role), so this creates a new user <strong>{userName}</strong>, standing for you as an auditor, and an
        AUDITOR key <strong>{keyName}</strong> for it. Both changes are recorded in the ledger as done by your ADMIN key.
      </p>
      <p class="muted small">
        The token is shown once, to store. This tab then uses the new key; to manage the directory again, sign out and sign in with your ADMIN key.
      </p>
      {error && (
        <p role="alert" class="alert bad">
          {error}
        </p>
      )}
      <button type="button" disabled={busy} onClick={() => void create()}>
        {busy ? 'Creating…' : 'Create an AUDITOR key for yourself and switch to it'}
      </button>
    </div>
  );
}

/** The new token, shown once above the page the tab switched to, until the user says it is stored. */
export function FreshKeyNotice(props: { fresh: FreshKey; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.fresh.token);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="card token" role="status" data-testid="fresh-key">
      <h2>This tab now uses the AUDITOR key “{props.fresh.keyName}”</h2>
      <p>
        <strong>Store this token now</strong> (for example in a password manager): it is shown only this once, the server keeps only its hash, and this tab forgets it
        when it closes. It acts as the user {props.fresh.userName}.
      </p>
      <label for="fresh-token">Token</label>
      <input id="fresh-token" class="mono token-value" readOnly value={props.fresh.token} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
      <div class="actions token-actions">
        <button type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy token'}
        </button>
        <button type="button" class="quiet" onClick={props.onDismiss}>
          I have stored it
        </button>
      </div>
    </div>
  );
}
