/**
 * Users, groups and permissions over HTTP against the real server: the authorisation matrix
 * (every role and credential state × every operation × group scope), scoped readers, group
 * snapshots on events, and the ledger's record of its own changes, reads and refusals.
 */
import { errorCode, gql, gqlFrom, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { describeEachAdapter } from '../support/adapters';

interface EventNode {
  id: string;
  leafIndex: number;
  action: string;
  actor: { id: string; type: string; name: string | null };
  target: { type: string; id: string; name: string | null } | null;
  outcome: string;
  reason: string | null;
  metadata: Record<string, unknown> | null;
  groups: string[];
}

const EVENT_FIELDS = 'id leafIndex action actor { id type name } target { type id name } outcome reason metadata groups';
const RECORD = `mutation($i: EventInput!) { recordEvent(input: $i) { eventId } }`;

type Who = 'admin' | 'appender' | 'auditor' | 'readerScoped' | 'readerUnscoped' | 'none' | 'revoked' | 'disabled';
const WHO: readonly Who[] = ['admin', 'appender', 'auditor', 'readerScoped', 'readerUnscoped', 'none', 'revoked', 'disabled'];
type Outcome = 'allowed' | 'UNAUTHENTICATED' | 'FORBIDDEN';

describeEachAdapter('users, groups and permissions over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  const tokens = {} as Record<Who, string | undefined>;
  const ids = {} as Record<'finance' | 'engineering' | 'alice' | 'bob' | 'carol' | 'revokedKey' | 'revokedUser', string>;
  let appenderScoped: string;

  const call = (query: string, variables: Record<string, unknown>, token: string | undefined) => gql(server.url, query, variables, token);
  const ok = <T>(query: string, variables: Record<string, unknown>, token: string | undefined) => gqlOk<T>(server.url, query, variables, token);

  async function auditorEvents(filter: Record<string, unknown>, first = 500): Promise<EventNode[]> {
    const res = await ok<{ events: { edges: { node: EventNode }[] } }>(
      `query($f: EventFilter, $n: Int) { events(filter: $f, first: $n, order: NEWEST_FIRST) { edges { node { ${EVENT_FIELDS} } } } }`,
      { f: filter, n: first },
      keys.auditor,
    );
    return res.events.edges.map((e) => e.node);
  }

  async function createKey(input: Record<string, unknown>): Promise<{ id: string; token: string; userId: string }> {
    return (await ok<{ createApiKey: { id: string; token: string; userId: string } }>(
      'mutation($i: ApiKeyInput!) { createApiKey(input: $i) { id token userId } }',
      { i: input },
      keys.admin,
    )).createApiKey;
  }

  beforeAll(async () => {
    le = await ledgerEnv('dir', { LEDGER_RECORD_READS: 'true' }, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    const group = async (name: string) =>
      (await ok<{ createGroup: { id: string } }>('mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name } }, keys.admin)).createGroup.id;
    const user = async (name: string) =>
      (await ok<{ createUser: { id: string } }>('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { name, type: 'HUMAN' } }, keys.admin)).createUser.id;
    ids.finance = await group('Finance');
    ids.engineering = await group('Engineering');
    ids.alice = await user('Alice');
    ids.bob = await user('Bob');
    ids.carol = await user('Carol');
    const member = 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }';
    await ok(member, { g: ids.finance, u: ids.alice }, keys.admin);
    await ok(member, { g: ids.engineering, u: ids.bob }, keys.admin);

    tokens.admin = keys.admin;
    tokens.appender = keys.appender;
    tokens.auditor = keys.auditor;
    tokens.readerUnscoped = keys.reader;
    tokens.none = undefined;
    tokens.readerScoped = (await createKey({ name: 'finance-reader', roles: ['READER'], groupIds: [ids.finance] })).token;
    appenderScoped = (await createKey({ name: 'finance-app', roles: ['APPENDER'], groupIds: [ids.finance] })).token;
    const gone = await createKey({ name: 'gone', roles: ['APPENDER'] });
    ids.revokedKey = gone.id;
    ids.revokedUser = gone.userId;
    await ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: gone.id }, keys.admin);
    tokens.revoked = gone.token;
    tokens.disabled = (await createKey({ name: 'carol-app', roles: ['APPENDER'], userId: ids.carol })).token;
    await ok('mutation($id: ID!) { updateUser(id: $id, input: { status: DISABLED }) { status } }', { id: ids.carol }, keys.admin);

    // Events from directory users (stamped with their groups) and from an outsider (no groups).
    await ok(RECORD, { i: { action: 'invoice.paid', actor: { id: ids.alice, type: 'USER' } } }, keys.appender);
    await ok(RECORD, { i: { action: 'deploy.done', actor: { id: ids.bob, type: 'USER' } } }, keys.appender);
    await ok(RECORD, { i: { action: 'job.ran', actor: { id: 'ext-1', type: 'SERVICE' } } }, keys.appender);
  });

  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  describe('the authorisation matrix', () => {
    // Mutations use arguments that pass authorisation but fail validation, so an allowed call
    // answers BAD_USER_INPUT and writes nothing; reads and public proofs answer data.
    const PUBLIC: Record<Who, Outcome> = {
      admin: 'allowed', appender: 'allowed', auditor: 'allowed', readerScoped: 'allowed', readerUnscoped: 'allowed',
      none: 'allowed', revoked: 'UNAUTHENTICATED', disabled: 'UNAUTHENTICATED',
    };
    const READ: Record<Who, Outcome> = {
      admin: 'FORBIDDEN', appender: 'FORBIDDEN', auditor: 'allowed', readerScoped: 'allowed', readerUnscoped: 'allowed',
      none: 'UNAUTHENTICATED', revoked: 'UNAUTHENTICATED', disabled: 'UNAUTHENTICATED',
    };
    const APPEND: Record<Who, Outcome> = { ...READ, appender: 'allowed', auditor: 'FORBIDDEN', readerScoped: 'FORBIDDEN', readerUnscoped: 'FORBIDDEN' };
    const ADMIN: Record<Who, Outcome> = { ...APPEND, appender: 'FORBIDDEN', admin: 'allowed' };
    const DIRECTORY_READ: Record<Who, Outcome> = { ...ADMIN, auditor: 'allowed' };
    // Scope: group filters on reads, explicit groups on appends.
    const IN_SCOPE: Record<Who, Outcome> = { ...READ, readerUnscoped: 'FORBIDDEN' };
    const OUT_OF_SCOPE: Record<Who, Outcome> = { ...IN_SCOPE, readerScoped: 'FORBIDDEN' };

    const operations: [string, string, () => Record<string, unknown>, Record<Who, Outcome>][] = [
      ['logInfo', '{ logInfo { origin } }', () => ({}), PUBLIC],
      ['checkpoint', '{ checkpoint { treeSize } }', () => ({}), PUBLIC],
      ['inclusionProof', '{ inclusionProof(leafIndex: 0) { hashes } }', () => ({}), PUBLIC],
      ['consistencyProof', '{ consistencyProof(fromSize: 0) { hashes } }', () => ({}), PUBLIC],
      ['events', '{ events(first: 5) { edges { cursor } } }', () => ({}), READ],
      ['event', '{ event(leafIndex: 0) { id } }', () => ({}), READ],
      ['eventCounts', '{ eventCounts(groupBy: ACTION) { key count } }', () => ({}), READ],
      ['events in group', 'query($g: ID!) { events(filter: { groupIds: [$g] }) { edges { cursor } } }', () => ({ g: ids.finance }), IN_SCOPE],
      ['events outside group', 'query($g: ID!) { events(filter: { groupIds: [$g] }) { edges { cursor } } }', () => ({ g: ids.engineering }), OUT_OF_SCOPE],
      ['eventCounts in group', 'query($g: ID!) { eventCounts(groupBy: GROUP, filter: { groupIds: [$g] }) { key } }', () => ({ g: ids.finance }), IN_SCOPE],
      ['eventCounts outside group', 'query($g: ID!) { eventCounts(groupBy: GROUP, filter: { groupIds: [$g] }) { key } }', () => ({ g: ids.engineering }), OUT_OF_SCOPE],
      ['eventCountsOverTime', `{ eventCountsOverTime(groupBy: OUTCOME, boundaries: ["2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"]) { from } }`, () => ({}), READ],
      ['eventCountsOverTime in group', `query($g: ID!) { eventCountsOverTime(groupBy: GROUP, boundaries: ["2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"], filter: { groupIds: [$g] }) { from } }`, () => ({ g: ids.finance }), IN_SCOPE],
      ['eventCountsOverTime outside group', `query($g: ID!) { eventCountsOverTime(groupBy: GROUP, boundaries: ["2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"], filter: { groupIds: [$g] }) { from } }`, () => ({ g: ids.engineering }), OUT_OF_SCOPE],
      ['recordEvent', RECORD, () => ({ i: { action: 'Not A Verb', actor: { id: 'x', type: 'USER' } } }), APPEND],
      ['recordEvents', 'mutation { recordEvents(inputs: []) { eventId } }', () => ({}), APPEND],
      ['apiKeys', '{ apiKeys { id } }', () => ({}), ADMIN],
      ['createApiKey', 'mutation { createApiKey(input: { name: " ", roles: [AUDITOR] }) { id } }', () => ({}), ADMIN],
      ['revokeApiKey', 'mutation { revokeApiKey(id: "nope") { id } }', () => ({}), ADMIN],
      ['users', '{ users { id } }', () => ({}), DIRECTORY_READ],
      ['user', 'query($id: ID!) { user(id: $id) { id } }', () => ({ id: ids.alice }), DIRECTORY_READ],
      ['groups', '{ groups { id } }', () => ({}), DIRECTORY_READ],
      ['group', 'query($id: ID!) { group(id: $id) { id } }', () => ({ id: ids.finance }), DIRECTORY_READ],
      ['createUser', 'mutation { createUser(input: { name: " ", type: HUMAN }) { id } }', () => ({}), ADMIN],
      ['updateUser', 'mutation { updateUser(id: "nope", input: { name: "x" }) { id } }', () => ({}), ADMIN],
      ['createGroup', 'mutation { createGroup(input: { name: " " }) { id } }', () => ({}), ADMIN],
      ['addGroupMember', 'mutation { addGroupMember(groupId: "nope", userId: "nope") { id } }', () => ({}), ADMIN],
      ['removeGroupMember', 'mutation { removeGroupMember(groupId: "nope", userId: "nope") { id } }', () => ({}), ADMIN],
    ];
    const cases = operations.flatMap(([op, query, vars, expected]) => WHO.map((who) => [op, who, query, vars, expected[who]] as const));

    it.each(cases)('%s by %s', async (_op, who, query, vars, expected) => {
      const code = errorCode(await call(query, vars(), tokens[who]));
      if (expected === 'allowed') expect([undefined, 'BAD_USER_INPUT']).toContain(code);
      else expect(code).toBe(expected);
    });

    it.each([
      ['the key\'s own group', () => [ids.finance], () => appenderScoped, undefined],
      ['another group', () => [ids.engineering], () => appenderScoped, 'FORBIDDEN'],
      ['any group, from a key without groups', () => [ids.finance], () => keys.appender, 'FORBIDDEN'],
    ])('recordEvent with explicit groups: %s', async (_name, groups, token, expected) => {
      const res = await call(RECORD, { i: { action: 'report.filed', actor: { id: 'ext-2', type: 'SERVICE' }, groups: groups() } }, token());
      expect(errorCode(res)).toBe(expected);
    });
  });

  it('stamps events with the actor\'s groups at that moment; membership changes never rewrite them', async () => {
    const [paid] = await auditorEvents({ action: 'invoice.paid' });
    expect(paid!.groups).toEqual([ids.finance]);
    expect((await auditorEvents({ action: 'job.ran' }))[0]!.groups).toEqual([]);
    await ok('mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }', { g: ids.finance, u: ids.alice }, keys.admin);
    await ok('mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: ids.engineering, u: ids.alice }, keys.admin);
    await ok(RECORD, { i: { action: 'invoice.voided', actor: { id: ids.alice, type: 'USER' } } }, keys.appender);
    expect((await auditorEvents({ action: 'invoice.voided' }))[0]!.groups).toEqual([ids.engineering]);
    expect((await auditorEvents({ action: 'invoice.paid' }))[0]!.groups).toEqual([ids.finance]);
    const { user } = await ok<{ user: { groups: { id: string }[] } }>('query($id: ID!) { user(id: $id) { groups { id } } }', { id: ids.alice }, keys.admin);
    expect(user.groups.map((g) => g.id)).toEqual([ids.engineering]);
  });

  it('isolates scoped readers: only their groups\' events, counts and single events', async () => {
    const { events } = await ok<{ events: { edges: { node: EventNode }[] } }>(
      `{ events(first: 500) { edges { node { ${EVENT_FIELDS} } } } }`,
      {},
      tokens.readerScoped,
    );
    const seen = events.edges.map((e) => e.node);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.groups.includes(ids.finance))).toBe(true);
    expect(seen.map((e) => e.action)).toContain('invoice.paid');
    expect(seen.map((e) => e.action)).not.toContain('deploy.done');

    const [deploy] = await auditorEvents({ action: 'deploy.done' });
    const single = await ok<{ event: null }>('query($id: ID) { event(id: $id) { id } }', { id: deploy!.id }, tokens.readerScoped);
    expect(single.event).toBeNull();

    const counts = await ok<{ eventCounts: { key: string; count: number }[] }>('{ eventCounts(groupBy: GROUP) { key count } }', {}, tokens.readerScoped);
    expect(counts.eventCounts.map((c) => c.key)).toEqual([ids.finance]);
    const all = await ok<{ eventCounts: { key: string; count: number }[] }>('{ eventCounts(groupBy: ACTION) { key count } }', {}, keys.auditor);
    expect(all.eventCounts.find((c) => c.key === 'deploy.done')?.count).toBe(1);

    const unscoped = await ok<{ events: { edges: unknown[] } }>('{ events { edges { cursor } } }', {}, tokens.readerUnscoped);
    expect(unscoped.events.edges).toEqual([]);
  });

  describe('eventCountsOverTime', () => {
    const OVER_TIME = 'query($b: [DateTimeISO!]!, $f: EventFilter, $by: EventCountGroupBy!) { eventCountsOverTime(groupBy: $by, boundaries: $b, filter: $f) { from to counts { key count } } }';
    interface Bucket { from: string; to: string; counts: { key: string; count: number }[] }
    const overTime = (b: string[], by: string, token: string | undefined, f?: Record<string, unknown>) =>
      ok<{ eventCountsOverTime: Bucket[] }>(OVER_TIME, { b, by, ...(f && { f }) }, token).then((r) => r.eventCountsOverTime);
    const hour = 3_600_000;
    const around = () => {
      const now = Date.now();
      return ['2000-01-01T00:00:00.000Z', new Date(now - 6 * hour).toISOString(), new Date(now + hour).toISOString(), new Date(now + 2 * hour).toISOString()];
    };

    it('counts each period [t_i, t_i+1) over one signed tree, in order, the same as eventCounts over that range', async () => {
      const b = around();
      const buckets = await overTime(b, 'ACTION', keys.auditor, { actionPrefix: 'invoice.' });
      expect(buckets.map((x) => [x.from, x.to])).toEqual([[b[0], b[1]], [b[1], b[2]], [b[2], b[3]]]);
      expect(buckets[0]!.counts).toEqual([]);
      expect(buckets[2]!.counts).toEqual([]);
      const { eventCounts } = await ok<{ eventCounts: { key: string; count: number }[] }>(
        'query($f: EventFilter) { eventCounts(groupBy: ACTION, filter: $f) { key count } }',
        { f: { actionPrefix: 'invoice.', from: b[1], to: b[2] } },
        keys.auditor,
      );
      expect(buckets[1]!.counts).toEqual(eventCounts);
      expect(eventCounts.length).toBeGreaterThan(0);
    });

    it("shows a scoped READER only its groups' counts", async () => {
      const buckets = await overTime(around(), 'GROUP', tokens.readerScoped);
      expect(buckets.flatMap((x) => x.counts.map((c) => c.key))).toEqual([ids.finance]);
    });

    it('is one recorded read for the whole series', async () => {
      const b = around();
      await overTime(b, 'OUTCOME', keys.auditor, { action: 'deploy.done' });
      const reads = (await auditorEvents({ action: 'ledger.events.read' }, 50)).filter(
        (e) => (e.metadata as { operation?: string; filter?: { action?: string } } | null)?.operation === 'eventCountsOverTime' && (e.metadata as { filter: { action?: string } }).filter.action === 'deploy.done',
      );
      expect(reads).toHaveLength(1);
      expect(reads[0]!.metadata).toMatchObject({ filter: { groupBy: 'OUTCOME', from: b[0], to: b[3], buckets: 3 }, results: 1 });
    });

    it.each([
      ['one boundary', () => ['2020-01-01T00:00:00Z'], undefined, /boundaries must hold 2-49/],
      ['49 buckets', () => Array.from({ length: 50 }, (_, i) => new Date(Date.UTC(2020, 0, 1 + i)).toISOString()), undefined, /boundaries must hold 2-49/],
      ['boundaries out of order', () => ['2021-01-01T00:00:00Z', '2020-01-01T00:00:00Z'], undefined, /boundaries\[1\] is not after boundaries\[0\]/],
      ['a repeated boundary', () => ['2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z'], undefined, /increase strictly/],
      ['filter.from beside boundaries', () => ['2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z'], { from: '2020-06-01T00:00:00Z' }, /cannot be combined with boundaries/],
    ])('refuses %s with BAD_USER_INPUT', async (_name, b, f, message) => {
      const res = await call(OVER_TIME, { b: b(), by: 'OUTCOME', ...(f && { f }) }, keys.auditor);
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(res)).toMatch(message);
    });
  });

  it('records each directory and key change with the calling user as actor and the changed object as target', async () => {
    const admin = { id: 'bootstrap-admin', type: 'USER', name: 'root' };
    const expectOne = async (action: string, target: Partial<EventNode['target']>) => {
      const found = (await auditorEvents({ action })).filter((e) => e.target?.id === target?.id);
      expect(found).toHaveLength(1);
      expect(found[0]!.actor).toEqual(admin);
      expect(found[0]!.target).toMatchObject(target!);
      expect(found[0]!.outcome).toBe('SUCCESS');
    };
    await expectOne('ledger.group.created', { type: 'group', id: ids.finance, name: 'Finance' });
    await expectOne('ledger.user.created', { type: 'user', id: ids.alice, name: 'Alice' });
    await expectOne('ledger.user.created', { type: 'user', id: ids.revokedUser, name: 'gone' });
    await expectOne('ledger.user.updated', { type: 'user', id: ids.carol });
    await expectOne('ledger.apikey.created', { type: 'apikey', id: ids.revokedKey, name: 'gone' });
    await expectOne('ledger.apikey.revoked', { type: 'apikey', id: ids.revokedKey });
    const added = (await auditorEvents({ action: 'ledger.group.member.added', targetId: ids.finance }))[0]!;
    expect(added.metadata).toEqual({ userId: ids.alice });
    const removed = (await auditorEvents({ action: 'ledger.group.member.removed', targetId: ids.finance }))[0]!;
    expect(removed.metadata).toEqual({ userId: ids.alice });
    const updated = (await auditorEvents({ action: 'ledger.user.updated', targetId: ids.carol }))[0]!;
    expect(updated.metadata).toEqual({ status: { from: 'ACTIVE', to: 'DISABLED' } });
  });

  it('records reads with the filter and the number of results', async () => {
    await ok('query($g: ID!) { events(filter: { groupIds: [$g], action: "invoice.paid" }) { edges { cursor } } }', { g: ids.finance }, tokens.readerScoped);
    const reads = await auditorEvents({ action: 'ledger.events.read' });
    // The auditor's own query above is recorded only after it answers, so the newest is the reader's.
    const read = reads.find((r) => r.actor.name === 'finance-reader')!;
    expect(read.actor.type).toBe('SERVICE');
    expect(read.metadata).toEqual({ operation: 'events', filter: { groupIds: [ids.finance], action: 'invoice.paid' }, results: 1 });
    expect(read.groups).toEqual([]);
  });

  it('records refusals with the caller as actor (or anonymous) and the reason, and nothing else', async () => {
    const size = async () => (await ok<{ checkpoint: { treeSize: number } }>('{ checkpoint { treeSize } }', {}, undefined)).checkpoint.treeSize;
    const before = await size();
    // From an address of their own: the matrix above already refused these callers from 127.0.0.1, and
    // refusals repeated within a window are counted into one summary rather than written one by one.
    expect(errorCode(await gqlFrom('127.0.0.2', server.url, '{ users { id } }', {}, undefined))).toBe('UNAUTHENTICATED');
    expect(errorCode(await gqlFrom('127.0.0.2', server.url, RECORD, { i: { action: 'a.b', actor: { id: 'x', type: 'USER' } } }, tokens.revoked))).toBe('UNAUTHENTICATED');
    expect(await size()).toBe(before + 2);
    const denials = await auditorEvents({ action: 'ledger.access.denied', outcome: 'DENIED' }, 2);
    expect(denials[0]!.actor).toMatchObject({ id: ids.revokedUser, type: 'SERVICE' });
    expect(denials[0]!.metadata).toMatchObject({ operation: 'recordEvent', code: 'UNAUTHENTICATED', reason: 'revoked API key' });
    expect(denials[1]!.actor).toEqual({ id: 'anonymous', type: 'SYSTEM', name: null });
    expect(denials[1]!.metadata).toMatchObject({ operation: 'users', code: 'UNAUTHENTICATED' });
    // Where the refused call came from is part of the record.
    const sources = await ok<{ events: { edges: { node: { source: { ip: string | null } | null } }[] } }>(
      'query($f: EventFilter) { events(filter: $f, first: 2, order: NEWEST_FIRST) { edges { node { source { ip } } } } }',
      { f: { action: 'ledger.access.denied' } },
      keys.auditor,
    );
    expect(sources.events.edges.map((e) => e.node.source?.ip)).toEqual(['127.0.0.2', '127.0.0.2']);
  });

  describe('refuses bad directory and key requests with a clear code, writing nothing', () => {
    const size = async () => (await ok<{ checkpoint: { treeSize: number } }>('{ checkpoint { treeSize } }', {}, undefined)).checkpoint.treeSize;

    it.each([
      ['a duplicate group name (any case)', 'mutation { createGroup(input: { name: "FINANCE" }) { id } }', () => ({}), 'name'],
      ['an unknown user', 'mutation($g: ID!) { addGroupMember(groupId: $g, userId: "nope") { id } }', () => ({ g: ids.finance }), 'userId'],
      ['an unknown group', 'mutation($u: ID!) { addGroupMember(groupId: "nope", userId: $u) { id } }', () => ({ u: ids.bob }), 'groupId'],
      ['a member twice', 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', () => ({ g: ids.engineering, u: ids.bob }), 'userId'],
      ['a non-member removed', 'mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }', () => ({ g: ids.finance, u: ids.bob }), 'userId'],
      ['a disabled user added', 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', () => ({ g: ids.finance, u: ids.carol }), 'userId'],
      ['a key for a disabled user', 'mutation($u: ID!) { createApiKey(input: { name: "k", roles: [AUDITOR], userId: $u }) { id } }', () => ({ u: ids.carol }), 'userId'],
      ['a key for an unknown user', 'mutation { createApiKey(input: { name: "k", roles: [AUDITOR], userId: "nope" }) { id } }', () => ({}), 'userId'],
      ['a key scoped to an unknown group', 'mutation { createApiKey(input: { name: "k", roles: [READER], groupIds: ["nope"] }) { id } }', () => ({}), 'groupIds'],
      ['groups on an AUDITOR key', 'mutation($g: ID!) { createApiKey(input: { name: "k", roles: [AUDITOR], groupIds: [$g] }) { id } }', () => ({ g: ids.finance }), 'groupIds'],
      ['revoking a revoked key', 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', () => ({ id: ids.revokedKey }), 'id'],
      ['disabling the last ADMIN', 'mutation { updateUser(id: "bootstrap-admin", input: { status: DISABLED }) { id } }', () => ({}), 'id'],
      ['an unknown user updated', 'mutation { updateUser(id: "nope", input: { name: "x" }) { id } }', () => ({}), 'id'],
    ])('%s', async (_name, query, vars, field) => {
      const before = await size();
      const res = await call(query, vars(), keys.admin);
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(await size()).toBe(before);
    });

    it('an ADMIN creating a key for its own user is FORBIDDEN, and only the denial is written', async () => {
      const before = await size();
      const res = await call('mutation { createApiKey(input: { name: "mine", roles: [APPENDER], userId: "bootstrap-admin" }) { id } }', {}, keys.admin);
      expect(errorCode(res)).toBe('FORBIDDEN');
      expect(await size()).toBe(before + 1);
    });
  });

  it('a disabled user\'s keys stop at once and work again when re-enabled', async () => {
    const key = await createKey({ name: 'bob-reader', roles: ['READER'], userId: ids.bob, groupIds: [ids.engineering] });
    await ok('{ events(first: 1) { edges { cursor } } }', {}, key.token);
    await ok('mutation($id: ID!) { updateUser(id: $id, input: { status: DISABLED }) { status } }', { id: ids.bob }, keys.admin);
    expect(errorCode(await call('{ events(first: 1) { edges { cursor } } }', {}, key.token))).toBe('UNAUTHENTICATED');
    await ok('mutation($id: ID!) { updateUser(id: $id, input: { status: ACTIVE }) { status } }', { id: ids.bob }, keys.admin);
    await ok('{ events(first: 1) { edges { cursor } } }', {}, key.token);
  });

  it('lists users and groups with their members', async () => {
    const { groups } = await ok<{ groups: { name: string; members: { name: string }[] }[] }>('{ groups { name members { name } } }', {}, keys.auditor);
    expect(groups.find((g) => g.name === 'Engineering')!.members.map((m) => m.name).sort()).toEqual(['Alice', 'Bob']);
    const { users } = await ok<{ users: { name: string; type: string; status: string }[] }>('{ users { name type status } }', {}, keys.admin);
    expect(users).toEqual(expect.arrayContaining([{ name: 'root', type: 'HUMAN', status: 'ACTIVE' }, { name: 'Carol', type: 'HUMAN', status: 'DISABLED' }]));
  });
});
