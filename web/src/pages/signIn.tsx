import { useState } from 'preact/hooks';
import { Api, errorCode, errorText, VIEWER_QUERY } from '../api';

/** The key is checked against the server before it is kept (in this tab's sessionStorage only). */
export function SignInPage(props: { onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const key = token.trim();
    if (!key) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await new Api(key).query(VIEWER_QUERY);
      props.onSignedIn(key);
    } catch (err) {
      setError(errorCode(err) === 'UNAUTHENTICATED' ? 'This API key is not valid (unknown, revoked, or its user is disabled).' : errorText(err));
      setBusy(false);
    }
  };

  return (
    <div class="frame">
      <header class="top">
        <span class="brand">audit-ledger</span>
      </header>
      <main id="main" class="signin">
        <h1>Sign in</h1>
        <p>
          Sign in with an API key. You see what that key may see: an ADMIN or AUDITOR key sees every group, a READER key its own groups. The first ADMIN key comes
          from <code>npx audit-ledger bootstrap-admin --name <em>your-name</em></code>, run where the server runs (the same data folder).
        </p>
        <form onSubmit={submit} class="card">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
            aria-describedby="api-key-help"
            aria-invalid={error ? true : undefined}
          />
          <p id="api-key-help" class="muted small">
            Kept in this tab only (session storage), never in the address or a cookie; signing out or closing the tab forgets it.
          </p>
          {error && (
            <p role="alert" class="alert bad">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </form>
      </main>
    </div>
  );
}
