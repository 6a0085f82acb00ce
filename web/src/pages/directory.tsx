import { useEffect, useState } from 'preact/hooks';
import { errorText, type Role } from '../api';
import { groupLabel, useSigned } from '../app';
import { localTime } from '../format';

interface User { id: string; name: string; type: string; status: string; externalId: string | null; groups: { id: string; name: string }[] }
interface Group { id: string; name: string; description: string | null; members: { id: string; name: string }[] }
interface Key { id: string; name: string; roles: Role[]; userId: string; groupIds: string[]; createdAt: string; revokedAt: string | null }
interface Data { users: User[]; groups: Group[]; keys: Key[] | undefined }

const ROLES: Role[] = ['ADMIN', 'AUDITOR', 'READER', 'APPENDER'];

/** Every change goes through the API's own mutations, so each is authorized and recorded by the server. */
export function DirectoryPage() {
  const { api, has } = useSigned();
  const admin = has('ADMIN');
  const [data, setData] = useState<Data | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [token, setToken] = useState<{ name: string; token: string } | undefined>();
  const [round, setRound] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      const dir = await api.query<{ users: User[]; groups: Group[] }>('{ users { id name type status externalId groups { id name } } groups { id name description members { id name } } }');
      const keys = admin ? (await api.query<{ apiKeys: Key[] }>('{ apiKeys { id name roles userId groupIds createdAt revokedAt } }')).apiKeys : undefined;
      if (live) setData({ ...dir, keys });
    })().catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [api, admin, round]);

  const change = async (what: string, document: string, variables: Record<string, unknown>): Promise<unknown> => {
    setError(undefined);
    setNotice(undefined);
    try {
      const result = await api.query<unknown>(document, variables);
      setNotice(what);
      setRound((r) => r + 1);
      return result;
    } catch (err) {
      setError(errorText(err));
      return undefined;
    }
  };

  const form = (e: Event) => {
    e.preventDefault();
    const el = e.currentTarget as HTMLFormElement;
    return { data: new FormData(el), reset: () => el.reset() };
  };

  const userName = new Map(data?.users.map((u) => [u.id, u.name]) ?? []);
  const groupNames = new Map(data?.groups.map((g) => [g.id, g.name]) ?? []);
  return (
    <section>
      <h1>Directory</h1>
      {!admin && <p class="muted">Read-only: only an ADMIN key may change the directory or see API keys.</p>}
      <div aria-live="polite">
        {notice && <p class="alert good">{notice}</p>}
        {error && <p role="alert" class="alert bad">{error}</p>}
      </div>
      {token && (
        <div class="card token" role="status" data-testid="new-token">
          <h2>New API key “{token.name}”</h2>
          <p>Copy this token now: it is shown only this once and is not stored anywhere.</p>
          <p class="mono break token-value">{token.token}</p>
          <button type="button" onClick={() => void navigator.clipboard?.writeText(token.token)}>Copy</button>{' '}
          <button type="button" class="quiet" onClick={() => setToken(undefined)}>I have copied it</button>
        </div>
      )}
      {!data && !error && <p class="muted" aria-busy="true">Loading…</p>}
      {data && (
        <>
          {data.keys && (
            <div class="card">
              <h2>API keys</h2>
              <form
                class="inline-form"
                aria-label="Create an API key"
                onSubmit={async (e) => {
                  const { data: f, reset } = form(e);
                  const roles = ROLES.filter((r) => f.get(`role-${r}`));
                  const name = String(f.get('name') ?? '').trim();
                  const userId = String(f.get('userId') ?? '');
                  const groupIds = f.getAll('groupIds').map(String);
                  const r = (await change(`Created the API key ${name}.`, 'mutation Create($input: ApiKeyInput!) { createApiKey(input: $input) { id token userId } }', {
                    input: { name, roles, ...(userId && { userId }), ...(groupIds.length > 0 && { groupIds }) },
                  })) as { createApiKey: { token: string } } | undefined;
                  if (r) {
                    setToken({ name, token: r.createApiKey.token });
                    reset();
                  }
                }}
              >
                <div class="field"><label for="k-name">Name</label><input id="k-name" name="name" required /></div>
                <fieldset class="field">
                  <legend>Roles</legend>
                  {ROLES.map((r) => (
                    <label key={r} class="check"><input type="checkbox" name={`role-${r}`} value="1" /> {r}</label>
                  ))}
                </fieldset>
                <div class="field">
                  <label for="k-user">Acts as user</label>
                  <select id="k-user" name="userId">
                    <option value="">A new service user named after the key</option>
                    {data.users.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
                  </select>
                </div>
                <div class="field">
                  <label for="k-groups">Groups (READER scope)</label>
                  <select id="k-groups" name="groupIds" multiple size={Math.min(4, Math.max(2, data.groups.length))}>
                    {data.groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
                  </select>
                </div>
                <div class="actions"><button type="submit">Create key</button></div>
              </form>
              <div class="table-wrap">
                <table>
                  <thead><tr><th scope="col">Name</th><th scope="col">Roles</th><th scope="col">User</th><th scope="col">Groups</th><th scope="col">Created</th><th scope="col">Status</th></tr></thead>
                  <tbody>
                    {data.keys.map((k) => (
                      <tr key={k.id} data-key-name={k.name}>
                        <td>{k.name}</td>
                        <td>{k.roles.join(', ')}</td>
                        <td>{userName.get(k.userId) ?? k.userId}</td>
                        <td>{k.groupIds.map((g) => groupLabel(groupNames, g)).join(', ')}</td>
                        <td>{localTime(k.createdAt)}</td>
                        <td>
                          {k.revokedAt ? (
                            <span class="badge denied">revoked {localTime(k.revokedAt)}</span>
                          ) : (
                            <button
                              type="button"
                              class="danger"
                              aria-label={`Revoke ${k.name}`}
                              onClick={() => {
                                if (window.confirm(`Revoke the API key ${k.name}? It stops working at once and cannot be restored.`)) {
                                  void change(`Revoked the API key ${k.name}.`, 'mutation Revoke($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id: k.id });
                                }
                              }}
                            >
                              Revoke
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          )}
          <div class="detail-grid">
            <div class="card">
              <h2>Users</h2>
              {admin && (
                <form
                  class="inline-form"
                  aria-label="Create a user"
                  onSubmit={async (e) => {
                    const { data: f, reset } = form(e);
                    const name = String(f.get('name') ?? '').trim();
                    const externalId = String(f.get('externalId') ?? '').trim();
                    if (await change(`Created the user ${name}.`, 'mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { name, type: String(f.get('type')), ...(externalId && { externalId }) } })) reset();
                  }}
                >
                  <div class="field"><label for="u-name">Name</label><input id="u-name" name="name" required /></div>
                  <div class="field"><label for="u-type">Type</label><select id="u-type" name="type"><option value="HUMAN">Human</option><option value="SERVICE">Service</option></select></div>
                  <div class="field"><label for="u-ext">External id (optional)</label><input id="u-ext" name="externalId" /></div>
                  <div class="actions"><button type="submit">Create user</button></div>
                </form>
              )}
              <div class="table-wrap">
                <table>
                  <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Groups</th>{admin && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
                  <tbody>
                    {data.users.map((u) => (
                      <tr key={u.id}>
                        <td>{u.name}{u.externalId ? <span class="muted small"> ({u.externalId})</span> : null}</td>
                        <td>{u.type}</td>
                        <td>{u.status}</td>
                        <td>{u.groups.map((g) => g.name).join(', ')}</td>
                        {admin && (
                          <td>
                            <button type="button" class="quiet" onClick={() => void change(`${u.status === 'ACTIVE' ? 'Disabled' : 'Enabled'} ${u.name}.`, 'mutation U($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id status } }', { id: u.id, input: { status: u.status === 'ACTIVE' ? 'DISABLED' : 'ACTIVE' } })}>
                              {u.status === 'ACTIVE' ? 'Disable' : 'Enable'}
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
            <div class="card">
              <h2>Groups and memberships</h2>
              {admin && (
                <>
                  <form
                    class="inline-form"
                    aria-label="Create a group"
                    onSubmit={async (e) => {
                      const { data: f, reset } = form(e);
                      const name = String(f.get('name') ?? '').trim();
                      const description = String(f.get('description') ?? '').trim();
                      if (await change(`Created the group ${name}.`, 'mutation G($input: CreateGroupInput!) { createGroup(input: $input) { id } }', { input: { name, ...(description && { description }) } })) reset();
                    }}
                  >
                    <div class="field"><label for="g-name">Group name</label><input id="g-name" name="name" required /></div>
                    <div class="field"><label for="g-desc">Description</label><input id="g-desc" name="description" /></div>
                    <div class="actions"><button type="submit">Create group</button></div>
                  </form>
                  <form
                    class="inline-form"
                    aria-label="Add a member"
                    onSubmit={async (e) => {
                      const { data: f } = form(e);
                      await change('Added the member.', 'mutation M($userId: ID!, $groupId: ID!) { addGroupMember(userId: $userId, groupId: $groupId) { id } }', { userId: String(f.get('userId')), groupId: String(f.get('groupId')) });
                    }}
                  >
                    <div class="field"><label for="m-user">User</label><select id="m-user" name="userId">{data.users.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}</select></div>
                    <div class="field"><label for="m-group">Group</label><select id="m-group" name="groupId">{data.groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}</select></div>
                    <div class="actions"><button type="submit">Add member</button></div>
                  </form>
                </>
              )}
              {data.groups.length === 0 && <p class="muted">No groups yet.</p>}
              {data.groups.map((g) => (
                <div key={g.id} class="group">
                  <h3>{g.name}</h3>
                  {g.description && <p class="muted small">{g.description}</p>}
                  <ul class="members">
                    {g.members.length === 0 && <li class="muted">no members</li>}
                    {g.members.map((m) => (
                      <li key={m.id}>
                        {m.name}
                        {admin && (
                          <button type="button" class="quiet small" aria-label={`Remove ${m.name} from ${g.name}`} onClick={() => void change(`Removed ${m.name} from ${g.name}.`, 'mutation R($userId: ID!, $groupId: ID!) { removeGroupMember(userId: $userId, groupId: $groupId) { id } }', { userId: m.id, groupId: g.id })}>
                            remove
                          </button>
                        )}
                      </li>
                    ))}
                  </ul>
                </div>
              ))}
            </div>
          </div>
        </>
      )}
    </section>
  );
}
